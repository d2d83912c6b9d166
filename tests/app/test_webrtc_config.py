"""app_pages.webrtc: which ICE servers a stream uses (environment, then secrets, then public STUN).

Unit tests of ``ice_config`` (no AppTest run): the environment variable is set with monkeypatch, and
``st.secrets`` is replaced by a plain mapping or by a real ``streamlit`` ``Secrets`` reading a TOML file
in a temporary folder, so neither this machine's secrets nor its environment decide a result.
"""

from __future__ import annotations

import json

import pytest
from streamlit import config
from streamlit.runtime.secrets import Secrets

from app_pages import webrtc
from app_pages.webrtc import DEFAULT_ICE, ENV_VAR, IceConfig, ice_config

TURN = {"urls": ["turn:turn.example.com:3478"], "username": "user", "credential": "s3cret"}
STUN = {"urls": ["stun:stun.example.org:3478"]}


@pytest.fixture(autouse=True)
def no_ice_settings(monkeypatch):
    """No ICE servers in the environment and no secrets, unless a test sets them."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr(webrtc.st, "secrets", {})


def use_secrets(monkeypatch, secrets) -> None:
    monkeypatch.setattr(webrtc.st, "secrets", secrets)


@pytest.fixture
def toml_secrets(tmp_path):
    """A function writing a secrets.toml and returning a real Secrets object that reads only it."""
    before = config.get_option("secrets.files")

    def make(text: str | None) -> Secrets:
        path = tmp_path / ".streamlit" / "secrets.toml"
        if text is not None:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
        config.set_option("secrets.files", [str(path)])
        return Secrets()

    yield make
    config.set_option("secrets.files", before)


def assert_default(ice: IceConfig) -> None:
    assert ice.servers == DEFAULT_ICE
    assert "STUN" in ice.source
    assert not ice.has_turn
    assert ice.rtc_configuration() == {"iceServers": [{"urls": ["stun:stun.l.google.com:19302"]}]}


# ------------------------------------------------------------------ the default


def test_without_environment_or_secrets_the_public_stun_server_is_used():
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is None


def test_a_missing_secrets_file_is_the_default_not_an_error(toml_secrets, monkeypatch):
    use_secrets(monkeypatch, toml_secrets(None))  # streamlit raises its own FileNotFoundError on reading
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is None


def test_secrets_that_cannot_be_read_fall_back_to_the_default(monkeypatch):
    class Unreadable:
        def __bool__(self):
            raise RuntimeError("secrets.toml does not parse")

    use_secrets(monkeypatch, Unreadable())
    assert_default(ice_config())


@pytest.mark.parametrize("value", ["", "   ", "\n"])
def test_an_empty_environment_variable_counts_as_unset(monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is None


# ------------------------------------------------------------------ the environment variable


def test_an_empty_list_means_no_ice_servers_at_all(monkeypatch):
    monkeypatch.setenv(ENV_VAR, "[]")
    ice = ice_config()
    assert ice.servers == ()
    assert ice.rtc_configuration() == {"iceServers": []}
    assert ENV_VAR in ice.source and ice.problem is None and not ice.has_turn


def test_a_turn_server_from_the_environment_carries_its_credentials(monkeypatch):
    monkeypatch.setenv(ENV_VAR, json.dumps([STUN, TURN]))
    ice = ice_config()
    assert ice.problem is None and ENV_VAR in ice.source
    assert ice.has_turn
    assert ice.servers == (STUN, TURN)
    assert ice.rtc_configuration() == {"iceServers": [STUN, TURN]}
    turn = ice.rtc_configuration()["iceServers"][1]
    assert turn["username"] == "user" and turn["credential"] == "s3cret"


def test_credentials_become_strings_and_unknown_keys_are_dropped(monkeypatch):
    server = {"urls": "turns:relay.example.com:5349", "username": 42, "credential": 7, "extra": "x", "username2": 1}
    monkeypatch.setenv(ENV_VAR, json.dumps([server]))
    ice = ice_config()
    assert ice.servers == ({"urls": ["turns:relay.example.com:5349"], "username": "42", "credential": "7"},)
    assert ice.has_turn  # turns: is a TURN relay too


def test_null_credentials_are_left_out(monkeypatch):
    monkeypatch.setenv(ENV_VAR, json.dumps([{"urls": ["stun:a.example:3478"], "username": None}]))
    assert ice_config().servers == ({"urls": ["stun:a.example:3478"]},)


def test_a_string_url_becomes_a_list(monkeypatch):
    monkeypatch.setenv(ENV_VAR, '[{"urls": "stun:stun.example.org:3478"}]')
    ice = ice_config()
    assert ice.servers == ({"urls": ["stun:stun.example.org:3478"]},)
    assert ice.rtc_configuration() == {"iceServers": [{"urls": ["stun:stun.example.org:3478"]}]}
    assert not ice.has_turn and ice.problem is None


def test_only_stun_servers_have_no_turn(monkeypatch):
    monkeypatch.setenv(ENV_VAR, json.dumps([STUN, {"urls": ["stuns:secure.example.org:5349"]}]))
    ice = ice_config()
    assert len(ice.servers) == 2 and not ice.has_turn


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", ""),
        ("[{'urls': 'stun:x'}]", ""),  # Python quotes are not JSON
        ('{"urls": ["stun:stun.example.org:3478"]}', "must be a list"),
        ('"stun:stun.example.org:3478"', "must be a list"),
        ("null", "must be a list"),
        ("42", "must be a list"),
        ('[{"username": "u", "credential": "p"}]', "server 1"),
        ('[{"urls": []}]', "needs a `urls` entry"),
        ('[{"urls": ""}]', "needs a `urls` entry"),
        ("[42]", "needs a `urls` entry"),
        ('[{"urls": "stun:ok.example:3478"}, {"urls": "http://turn.example.com"}]', "server 2"),
        ('[{"urls": ["https://turn.example.com"]}]', "stun:, stuns:, turn: or turns:"),
        ('[{"urls": ["stun:ok.example:3478", 3478]}]', "each url must start"),
        ('[{"urls": ["STUN:caps.example:3478"]}]', "each url must start"),
    ],
    ids=[
        "not-json",
        "python-quotes",
        "an-object",
        "a-string",
        "null",
        "a-number",
        "no-urls",
        "empty-urls",
        "blank-url",
        "not-an-object",
        "http-url",
        "https-url",
        "a-number-url",
        "upper-case-scheme",
    ],
)
def test_a_bad_environment_variable_falls_back_to_public_stun_and_says_why(monkeypatch, raw, message):
    monkeypatch.setenv(ENV_VAR, raw)
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is not None
    assert ENV_VAR in ice.problem and "ignored" in ice.problem
    assert message in ice.problem


@pytest.mark.parametrize("urls", [3478, True])
def test_a_number_as_urls_falls_back_with_a_problem(monkeypatch, urls):
    monkeypatch.setenv(ENV_VAR, json.dumps([{"urls": urls}]))
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is not None and ENV_VAR in ice.problem


@pytest.mark.parametrize("url", ["turn", "stun"])
def test_a_bare_scheme_without_a_colon_is_refused(monkeypatch, url):
    monkeypatch.setenv(ENV_VAR, json.dumps([{"urls": [url]}]))
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is not None and ENV_VAR in ice.problem


# ------------------------------------------------------------------ the secrets


def test_ice_servers_from_the_secrets(monkeypatch):
    use_secrets(monkeypatch, {"webrtc": {"ice_servers": [STUN, TURN]}})
    ice = ice_config()
    assert ice.source == "the app's secrets" and ice.problem is None
    assert ice.servers == (STUN, TURN) and ice.has_turn
    assert ice.rtc_configuration()["iceServers"][1]["credential"] == "s3cret"


def test_ice_servers_from_a_real_secrets_toml(toml_secrets, monkeypatch):
    secrets = toml_secrets(
        "[webrtc]\n"
        "ice_servers = [\n"
        '  { urls = ["stun:stun.example.org:3478"] },\n'
        '  { urls = "turn:turn.example.com:3478", username = "user", credential = "s3cret" },\n'
        "]\n"
    )
    use_secrets(monkeypatch, secrets)
    ice = ice_config()
    assert ice.source == "the app's secrets" and ice.problem is None
    assert ice.servers == (STUN, TURN)
    assert ice.has_turn


def test_an_empty_list_in_the_secrets_means_no_servers(monkeypatch):
    use_secrets(monkeypatch, {"webrtc": {"ice_servers": []}})
    ice = ice_config()
    assert ice.servers == () and ice.rtc_configuration() == {"iceServers": []}
    assert ice.source == "the app's secrets"


@pytest.mark.parametrize(
    "secrets",
    [{}, {"HF_TOKEN": "hf_x"}, {"webrtc": {}}, {"webrtc": {"other": 1}}, {"webrtc": {"ice_servers": None}}],
    ids=["empty", "other-secrets", "empty-section", "no-ice-servers", "null-ice-servers"],
)
def test_secrets_without_ice_servers_use_the_default(monkeypatch, secrets):
    use_secrets(monkeypatch, secrets)
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is None


@pytest.mark.parametrize(
    ("servers", "message"),
    [
        ("turn:turn.example.com:3478", "must be a list"),
        ({"urls": ["stun:x.example:3478"]}, "must be a list"),
        ([{"username": "u"}], "needs a `urls` entry"),
        ([{"urls": ["http://turn.example.com"]}], "each url must start"),
    ],
    ids=["a-string", "a-table", "no-urls", "http-url"],
)
def test_bad_ice_servers_in_the_secrets_fall_back_with_a_problem(monkeypatch, servers, message):
    use_secrets(monkeypatch, {"webrtc": {"ice_servers": servers}})
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is not None
    assert "secrets" in ice.problem and "[webrtc] ice_servers" in ice.problem and message in ice.problem
    assert ENV_VAR not in ice.problem


def test_a_bad_real_secrets_toml_entry_falls_back_with_a_problem(toml_secrets, monkeypatch):
    use_secrets(monkeypatch, toml_secrets('[webrtc]\nice_servers = [ { urls = ["https://turn.example.com"] } ]\n'))
    ice = ice_config()
    assert_default(ice)
    assert ice.problem is not None and "secrets" in ice.problem


def test_a_secrets_toml_that_does_not_parse_is_the_default(toml_secrets, monkeypatch):
    use_secrets(monkeypatch, toml_secrets("[webrtc\nice_servers = oops\n"))
    assert_default(ice_config())


# ------------------------------------------------------------------ which wins


def test_the_environment_wins_over_the_secrets(monkeypatch):
    use_secrets(monkeypatch, {"webrtc": {"ice_servers": [TURN]}})
    monkeypatch.setenv(ENV_VAR, json.dumps([STUN]))
    ice = ice_config()
    assert ice.servers == (STUN,) and ENV_VAR in ice.source and not ice.has_turn
    monkeypatch.setenv(ENV_VAR, "[]")
    assert ice_config().servers == ()  # an empty list in the environment still wins
    monkeypatch.delenv(ENV_VAR)
    ice = ice_config()
    assert ice.servers == (TURN,) and ice.source == "the app's secrets"


def test_a_bad_environment_variable_is_reported_even_with_good_secrets(monkeypatch):
    use_secrets(monkeypatch, {"webrtc": {"ice_servers": [TURN]}})
    monkeypatch.setenv(ENV_VAR, "not json")
    ice = ice_config()
    assert ice.servers == DEFAULT_ICE  # the first setting found wins, even when it is broken: it is reported
    assert ice.problem is not None and ENV_VAR in ice.problem


# ------------------------------------------------------------------ IceConfig itself


def test_ice_config_has_turn_and_rtc_configuration():
    direct = IceConfig(({"urls": "turn:relay.example.com"},), "a test")
    assert direct.has_turn and direct.problem is None
    assert not IceConfig((), "a test").has_turn
    assert not IceConfig(({"urls": None},), "a test").has_turn
    assert IceConfig(({"urls": ["stun:a", "turns:b"]},), "a test").has_turn
    servers = ({"urls": ["stun:a"]},)
    ice = IceConfig(servers, "a test")
    rtc = ice.rtc_configuration()
    assert rtc == {"iceServers": [{"urls": ["stun:a"]}]}
    rtc["iceServers"][0]["username"] = "changed"
    assert ice.servers == ({"urls": ["stun:a"]},)  # the configuration is handed out as copies
    with pytest.raises(AttributeError):
        ice.source = "elsewhere"  # frozen
