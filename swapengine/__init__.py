"""AdStudio's media engine: plain Python, no Django. Usable from a CLI, a Celery worker or a notebook.

This module is the engine's public surface: the web app and the CLI import from here and nowhere
deeper (``make lint`` checks it). The stages live in subpackages, in layers (an upper one may import a
lower one, never the reverse; see .importlinter): pipeline > lips > voice | swap | provenance > faces >
media > errors | progress | version. Nothing inside the engine imports this module.
"""

from swapengine.errors import BadInput, Cancelled, EngineError, FFmpegError
from swapengine.faces.analysis import TemplateAnalysis, analyse_template
from swapengine.faces.detect import FaceAnalyzer, analyse_selfie, load_image
from swapengine.lips.slotmouth import ensure_mouth_bank, ensure_mouth_model
from swapengine.media.audio import load_audio
from swapengine.media.info import VideoInfo
from swapengine.media.probing import ffmpeg_version, probe
from swapengine.pipeline.context import EngineContext
from swapengine.pipeline.dialogue import DialogueRequest
from swapengine.pipeline.render import RenderRequest, RenderResult, render
from swapengine.progress import ProgressCallback
from swapengine.provenance.label import COMMENT_PREFIX, RENDER_KEY, TEMPLATE_KEY, Label, read_metadata
from swapengine.provenance.watermark import Detection, Watermarker, detect_file
from swapengine.version import ENGINE_VERSION
from swapengine.voice.bank import VoiceBankReport, assess_voice_recording
from swapengine.voice.screening import screen_name
from swapengine.voice.slots import SlotLine, Stems, default_speaker, music_under_slot
from swapengine.voice.speech import speech_regions, waveform_peaks

__all__ = [
    "COMMENT_PREFIX", "ENGINE_VERSION", "RENDER_KEY", "TEMPLATE_KEY",
    "BadInput", "Cancelled", "Detection", "DialogueRequest", "EngineContext", "EngineError", "FFmpegError",
    "FaceAnalyzer", "Label", "ProgressCallback", "RenderRequest", "RenderResult", "SlotLine", "Stems",
    "TemplateAnalysis", "VideoInfo", "VoiceBankReport", "Watermarker",
    "analyse_selfie", "analyse_template", "assess_voice_recording", "default_speaker", "detect_file",
    "ensure_mouth_bank", "ensure_mouth_model", "ffmpeg_version", "load_audio", "load_image", "music_under_slot",
    "probe", "read_metadata", "render",
    "screen_name", "speech_regions", "waveform_peaks",
]
