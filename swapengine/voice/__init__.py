"""Sound for dialogue slots: speech analysis (speech, audiofeat, formants, intonation), the voices and
their conversion towards the speaker (tts; frame by frame from their own speech: knnvc), the quality
report of a voice-bank recording (bank), alignment of a recording's words, screening of spoken
text, and the slots' audio and soundtrack (slots).

May import swapengine.faces, swapengine.media and the base modules; never swap or provenance.
"""
