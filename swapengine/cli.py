"""`python -m swapengine`: the engine without the web app, for notebooks, scripts and quick checks.

stdout carries only results (JSON, or the output path as the last line) so scripts can parse it;
progress and errors go to stderr. Exit codes: 0 done, 2 unusable input (BadInput), 1 engine failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from swapengine.errors import BadInput, EngineError

DEFAULT_CACHE = Path.home() / ".cache" / "swapengine"


def _progress(stage: str, value: float) -> None:
    sys.stderr.write(f"\r{stage:<8} {value * 100:5.1f}%")
    if value >= 1.0:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _analyse(args: argparse.Namespace) -> int:
    from swapengine.faces.analysis import analyse_template
    from swapengine.pipeline.context import EngineContext

    with EngineContext(args.cache) as ctx:
        analysis = analyse_template(Path(args.clip), args.cache, ctx, progress=_progress)
    summary = analysis.summary()
    summary["directory"] = str(analysis.directory)
    summary["default_track"] = analysis.default_track_id()
    print(json.dumps(summary, indent=1))
    return 0


def _render(args: argparse.Namespace) -> int:
    from swapengine.faces.analysis import analyse_template
    from swapengine.pipeline.context import EngineContext
    from swapengine.pipeline.render import RenderRequest, render
    from swapengine.provenance.label import Label

    out = Path(args.out)
    poster = Path(args.poster) if args.poster else out.with_suffix(".jpg")
    with EngineContext(args.cache) as ctx:
        analysis = analyse_template(Path(args.clip), args.cache, ctx, progress=_progress)
        request = RenderRequest(
            clip=Path(args.clip),
            analysis=analysis,
            track_id=analysis.default_track_id() if args.track is None else args.track,
            selfie=Path(args.selfie),
            out_video=out,
            out_poster=poster,
            render_id=args.render_id or uuid.uuid4().hex,
            label=Label(corner=args.corner),
        )
        result = render(request, ctx, progress=_progress)
    sys.stderr.write(
        f"{result.frames} frames, {result.duration:.2f} s of video in {result.seconds:.1f} s "
        f"({result.frames / max(result.seconds, 1e-6):.1f} fps); poster {poster}\n"
    )
    print(out)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m swapengine", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    analyse = sub.add_parser("analyse", help="find the face tracks of a template clip (cached)")
    analyse.add_argument("clip")
    analyse.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    analyse.set_defaults(run=_analyse)
    rend = sub.add_parser("render", help="put a selfie's face onto a track of a template clip")
    rend.add_argument("clip")
    rend.add_argument("selfie")
    rend.add_argument("out", help="output MP4 path (the poster goes next to it as .jpg)")
    rend.add_argument("--track", type=int, default=None, help="track id (default: the main face)")
    rend.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    rend.add_argument("--poster", default=None)
    rend.add_argument("--corner", default="bottom-right",
                      choices=["top-left", "top-right", "bottom-left", "bottom-right"])
    rend.add_argument("--render-id", default=None)
    rend.set_defaults(run=_render)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except BadInput as exc:
        sys.stderr.write(f"\n{exc.code}: {exc.user_message}\n")
        return 2
    except EngineError as exc:
        sys.stderr.write(f"\nengine error: {exc}\n")
        return 1
