"""Faces in pictures and clips: detection and landmarks (detect), face tracks, head pose, identity
embeddings, landmark smoothing, and the once-per-template analysis that ties them together (analysis).

May import swapengine.media and the base modules (errors, progress, version).
"""
