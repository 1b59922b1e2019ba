"""The API's JSON shapes (pydantic): they type the views and generate the OpenAPI document."""

from __future__ import annotations

from ninja import Schema


class Error(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: Error


class SlotField(Schema):
    name: str
    label: str
    choices: list[str] | None = None


class TemplateOut(Schema):
    slug: str
    title: str
    duration: float
    needs_selfie: bool
    asks_name: bool
    fields: list[SlotField]
    preview_url: str


class RenderCreated(Schema):
    id: str
    state: str


class RenderOut(Schema):
    id: str
    state: str
    progress: float
    stage: str
    share_url: str | None = None
    video_url: str | None = None
    error: Error | None = None
