"""The speaker's mouth in dialogue slots: mouth patches and their bank (mouth, mouthbank), the learned
lip model (lipsync, torch), phoneme visemes, the jaw line, and per-slot frame hooks (slotmouth).

May import swapengine.voice, swap, provenance, faces, media and the base modules. Importing
lipsync imports torch, so this package's __init__ imports nothing.
"""
