"""Speech to text with translation: audio decoding and resampling, streaming recognizers, translation, analysis.

Audio inside the engine is always 16 kHz mono: ``int16`` chunks for the streaming recognizers, ``float32`` in
[-1, 1] for the models. pocketsphinx, av, torch and transformers are imported by the modules that need them,
never here.
"""
