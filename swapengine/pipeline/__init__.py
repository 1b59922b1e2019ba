"""One fan's render: the engine context (lazily loaded models), the dialogue preparation that joins
voice and lips, the frame stages and the decode -> stages -> encode loop (render).

May import every stage package below it (lips, voice, swap, provenance, faces, media) and the base
modules; only the CLI and the engine's surface import it.
"""
