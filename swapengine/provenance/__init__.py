"""What marks an ad as AI-made and traceable: the visible label and MP4 metadata (label), and the
invisible watermark carrying the render id, with its detector (watermark).

May import swapengine.faces, swapengine.media and the base modules; never voice or swap.
"""
