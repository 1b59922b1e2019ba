"""The face swap: the fan's selfie warped onto a track's landmarks (warp), colour-matched (colour) and
blended in (blend), driven frame by frame by swapper.FaceSwapper.

May import swapengine.faces, swapengine.media and the base modules; never voice or provenance.
"""
