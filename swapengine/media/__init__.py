"""ffmpeg, and nothing above it: argv builders (argv.py, pure), the one runner that starts ffmpeg
(runner.py), probing, frame pipes, audio decoding and JPEG stills.

May import only swapengine.errors. The names below are re-exported because every stage uses them;
inside this package, import from the defining module.
"""

from swapengine.media.argv import ffmpeg_exe
from swapengine.media.audio import extract_audio, load_audio
from swapengine.media.frames import FrameReader, FrameWriter, encode_jpeg
from swapengine.media.info import VideoInfo
from swapengine.media.probing import describe, probe

__all__ = ["FrameReader", "FrameWriter", "VideoInfo", "describe", "encode_jpeg", "extract_audio", "ffmpeg_exe",
           "load_audio", "probe"]
