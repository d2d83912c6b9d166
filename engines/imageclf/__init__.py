"""Image classifier: a digits CNN trained on demand, transfer learning on pretrained features."""
