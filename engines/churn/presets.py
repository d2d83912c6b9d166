"""Preset customers for the what-if form (invented, in the Telco schema)."""

from __future__ import annotations

_BASE = {
    "gender": "Female",
    "SeniorCitizen": "No",
    "Partner": "No",
    "Dependents": "No",
    "PhoneService": "Yes",
    "MultipleLines": "No",
    "OnlineBackup": "No",
    "DeviceProtection": "No",
    "StreamingTV": "No",
    "StreamingMovies": "No",
}

PRESETS: dict[str, dict[str, object]] = {
    "Likely to leave": _BASE
    | {
        "SeniorCitizen": "Yes",
        "tenure": 2,
        "InternetService": "Fiber optic",
        "OnlineSecurity": "No",
        "TechSupport": "No",
        "StreamingTV": "Yes",
        "Contract": "Month-to-month",
        "PaperlessBilling": "Yes",
        "PaymentMethod": "Electronic check",
        "MonthlyCharges": 85.0,
        "TotalCharges": 170.0,
    },
    "New, undecided": _BASE
    | {
        "gender": "Male",
        "tenure": 8,
        "InternetService": "DSL",
        "OnlineSecurity": "Yes",
        "TechSupport": "No",
        "Contract": "Month-to-month",
        "PaperlessBilling": "No",
        "PaymentMethod": "Mailed check",
        "MonthlyCharges": 55.0,
        "TotalCharges": 440.0,
    },
    "Loyal": _BASE
    | {
        "gender": "Male",
        "Partner": "Yes",
        "Dependents": "Yes",
        "tenure": 60,
        "InternetService": "DSL",
        "OnlineSecurity": "Yes",
        "OnlineBackup": "Yes",
        "TechSupport": "Yes",
        "Contract": "Two year",
        "PaperlessBilling": "No",
        "PaymentMethod": "Credit card (automatic)",
        "MonthlyCharges": 65.0,
        "TotalCharges": 3900.0,
    },
}
