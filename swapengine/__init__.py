"""AdStudio's media engine: plain Python, no Django. Usable from a CLI, a Celery worker or a notebook.

Stages, each a module with a small contract, listed here and nowhere else:
  media       ffmpeg probe, frame reader and writer (pipes, argv lists)
  faces       face detection, dense landmarks, selfie checks (mediapipe, shipped in the wheel)
  tracks      grouping per-frame detections into face tracks
  analysis    template analysis, run once and cached by (content hash, ENGINE_VERSION)
  swap        per-frame face swap onto a track's landmarks
  provenance  visible "AI-generated" label and traceable metadata
  render      the per-fan pipeline: decode -> swap -> label -> encode, with progress
"""

ENGINE_VERSION = "1.1.0"
