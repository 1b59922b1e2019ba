"""Admin for templates (upload, analysis, the fan's face, publishing) and renders (watch, clean up)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from adstudio.catalog import speech
from adstudio.catalog.models import ContextTable, DialogueSlot, PhraseRecording, Template, VoiceBank, VoiceRecording
from adstudio.catalog.services import request_analysis
from adstudio.renders.models import Render
from adstudio.renders.services import enqueue_render
from adstudio.studio.forms import ContextTableForm, PhraseRecordingForm, TemplateAdminForm
from adstudio.studio.timeline import regions_text, timeline_svg
from adstudio.trust.models import SensitiveTerm


class OptionalInlineFormSet(BaseInlineFormSet):
    """A post without this inline's management form (a script, a form from before dialogue slots)
    leaves the rows as they are instead of failing the whole save."""

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        prefix = kwargs.get("prefix") or self.get_default_prefix()
        if data is not None and f"{prefix}-TOTAL_FORMS" not in data:
            data = data.copy()
            data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, **kwargs)


class DialogueSlotInline(admin.TabularInline):
    model = DialogueSlot
    formset = OptionalInlineFormSet
    extra = 0
    fields = ["start", "end", "speaker_track", "line"]


class ContextTableInline(admin.TabularInline):
    model = ContextTable
    formset = OptionalInlineFormSet
    extra = 0
    fields = ["key_field", "target", "rows"]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    form = TemplateAdminForm
    list_display = ["title", "analysis_status", "published", "fan_track", "renders_count", "created_at"]
    list_filter = ["published", "analysis_status"]
    search_fields = ["title", "slug"]

    class Media:
        js = ["js/timeline.js"]  # drag on the speech timeline to place a dialogue slot
    readonly_fields = [
        "analysis_status", "analysis_progress", "analysis_message", "analysis_error",
        "clip_info", "face_tracks", "analysis_key", "engine_version", "speech_timeline", "music_warning",
    ]
    inlines = [DialogueSlotInline, ContextTableInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "clip", "poster", "label_corner", "published"]}),
        ("The fan's face", {"fields": ["swap_face", "face_tracks", "fan_track"]}),
        ("Dialogue", {
            "fields": ["speech_timeline", "music_warning", "dialogue_stem", "music_stem", "voice_bank"],
            "description": "Slots (below) replace a span of the clip's speech with a line such as "
            "'Happy Diwali, {name}!'. Place them by eye on the detected speech.",
        }),
        ("Analysis", {"fields": [
            "analysis_status", "analysis_progress", "analysis_message", "analysis_error",
            "clip_info", "analysis_key", "engine_version",
        ]}),
    ]
    actions = ["publish", "unpublish", "reanalyse"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Template]:
        return super().get_queryset(request).annotate(renders_total=Count("renders"))

    @admin.display(description="Renders", ordering="renders_total")
    def renders_count(self, obj: Template) -> int:
        return getattr(obj, "renders_total", 0)

    @admin.display(description="Clip")
    def clip_info(self, obj: Template) -> str:
        return json.dumps(obj.info, indent=1, sort_keys=True) if obj.info else "Not analysed yet."

    @admin.display(description="Faces found")
    def face_tracks(self, obj: Template) -> SafeString | str:
        if not obj.pk or not obj.tracks:
            return "None yet: they appear here once the clip is analysed."
        fps = float(obj.info.get("fps") or 0)
        rows = []
        for track in obj.tracks:
            seconds = f"{track['start'] / fps:.1f}-{track['end'] / fps:.1f} s" if fps else ""
            chosen = " (the fan's face)" if track["id"] == obj.fan_track else ""
            rows.append((
                reverse("ads:track_thumbnail", args=[obj.slug, track["id"]]),
                track["id"], track["id"], chosen, track["start"], track["end"], seconds,
            ))
        items = format_html_join(
            "",
            '<li><img src="{}" alt="Face track {}" height="96" loading="lazy"> '
            "<span>Track {}{}: frames {}-{} {}</span></li>",
            rows,
        )
        return format_html('<ul class="face-tracks" style="list-style:none;padding:0">{}</ul>', items)

    @admin.display(description="Speech in the clip")
    def speech_timeline(self, obj: Template) -> SafeString | str:
        found = obj.info.get("speech") if obj.info else None
        if not found:
            return "Appears once the clip is analysed."
        slots = [(s.start, s.end, s.line) for s in obj.slots.all()] if obj.pk else []
        svg = timeline_svg(found["peaks"], found["regions"], slots, float(found["duration"]))
        return format_html("{}<p>{}</p>", svg, regions_text(found["regions"]))

    @admin.display(description="Music under slots")
    def music_warning(self, obj: Template) -> SafeString | str:
        warnings = speech.music_warnings(obj) if obj.pk else []
        if not warnings:
            return "No music detected under the slots (or stems are attached)."
        return format_html_join("", '<p style="color:#b71c1c">{}</p>', ((w,) for w in warnings))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        slots_changed = any(f.model is DialogueSlot and f.has_changed() for f in formsets)
        if slots_changed and "clip" not in form.changed_data:
            request_analysis(form.instance)  # cached faces: only the slots' speakers are prepared again
            self.message_user(request, "The dialogue slots are being prepared (speaker, lip model).")

    def save_model(self, request: HttpRequest, obj: Template, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "clip" in form.changed_data:
            request_analysis(obj)  # enqueued when the admin's transaction commits
            self.message_user(request, "The clip is being analysed; the faces appear here when it is done.")

    def delete_model(self, request: HttpRequest, obj: Template) -> None:
        for render in obj.renders.all():
            render.discard()  # the cascade would leave the fans' videos on disk
        obj.clip.delete(save=False)
        obj.delete()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            self.delete_model(request, template)

    @admin.action(description="Publish selected templates (analysed ones only)")
    def publish(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        ready = [t.pk for t in queryset if t.is_ready]
        Template.objects.filter(pk__in=ready).update(published=True)
        skipped = queryset.count() - len(ready)
        self.message_user(request, f"Published {len(ready)} template(s).")
        if skipped:
            warning = f"{skipped} template(s) not published: not analysed or no face chosen."
            self.message_user(request, warning, messages.WARNING)

    @admin.action(description="Unpublish selected templates")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        count = queryset.update(published=False)
        self.message_user(request, f"Unpublished {count} template(s).")

    @admin.action(description="Analyse selected templates again")
    def reanalyse(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        templates = list(queryset)
        for template in templates:
            request_analysis(template)
        self.message_user(request, f"Queued {len(templates)} template(s) for analysis.")


@admin.register(Render)
class RenderAdmin(admin.ModelAdmin):
    list_display = ["public_id", "state", "template", "name", "percent", "created_at", "views", "taken_down_at"]
    list_filter = ["state", "template", ("taken_down_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "public_id", "share_token"]
    list_select_related = ["template"]
    date_hierarchy = "created_at"
    actions = ["requeue", "take_down"]

    def get_readonly_fields(self, request: HttpRequest, obj: Render | None = None) -> list[str]:
        return [f.name for f in Render._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # renders come from fans' selfies, never from the admin

    @admin.display(description="Progress", ordering="progress")
    def percent(self, obj: Render) -> str:
        return f"{obj.progress * 100:.0f}%"

    @admin.action(description="Queue again (stuck in 'queued' only)")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Render]) -> None:
        stuck = list(queryset.filter(state=Render.State.QUEUED))
        for render in stuck:
            enqueue_render(render)
        self.message_user(request, f"Queued {len(stuck)} render(s) again.")
        if len(stuck) < queryset.count():
            self.message_user(
                request,
                "Only queued renders can be queued again: selfies are erased when a render ends.",
                messages.WARNING,
            )

    @admin.action(description="Take down (hide at once, delete the video and poster)")
    def take_down(self, request: HttpRequest, queryset: QuerySet[Render]) -> None:
        renders = list(queryset.filter(taken_down_at__isnull=True))
        for render in renders:
            render.take_down()
        self.message_user(request, f"Took down {len(renders)} ad(s): their share links now show 'not found'.")

    def delete_model(self, request: HttpRequest, obj: Render) -> None:
        obj.discard()  # cancels it if running and removes its files with the row

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Render]) -> None:
        for render in queryset:
            render.discard()


@admin.register(PhraseRecording)
class PhraseRecordingAdmin(admin.ModelAdmin):
    """The celebrity's own takes of common names and words: used when a whole line matches (any case, accents)."""

    form = PhraseRecordingForm
    list_display = ["text", "template", "audio"]
    list_filter = ["template"]
    search_fields = ["text"]


@admin.register(SensitiveTerm)
class SensitiveTermAdmin(admin.ModelAdmin):
    """Words no fan may put in the celebrity's mouth: refused in names and every spoken field."""

    list_display = ["term", "note"]
    search_fields = ["term", "note"]


@admin.register(ContextTable)
class ContextTableAdmin(admin.ModelAdmin):
    form = ContextTableForm
    list_display = ["template", "key_field", "target"]
    list_filter = ["template"]


class VoiceRecordingInline(admin.TabularInline):
    """Read-only: recordings are uploaded, analysed and deleted in the studio's voice-bank page."""

    model = VoiceRecording
    extra = 0
    can_delete = False
    fields = ["original_name", "size", "duration", "state", "message"]
    readonly_fields = ["original_name", "size", "duration", "state", "message"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(VoiceBank)
class VoiceBankAdmin(admin.ModelAdmin):
    """A celebrity's licensed recordings; the studio page uploads them and shows their quality report."""

    list_display = ["celebrity", "licensed_until", "recordings_count", "templates_count", "created_by", "created_at"]
    search_fields = ["celebrity", "licence"]
    fields = ["celebrity", "licence", "licensed_until", "created_by", "created_at", "studio_link"]
    readonly_fields = ["created_by", "created_at", "studio_link"]
    inlines = [VoiceRecordingInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[VoiceBank]:
        return super().get_queryset(request).annotate(
            recordings_total=Count("recordings", distinct=True), templates_total=Count("templates", distinct=True)
        )

    @admin.display(description="Recordings", ordering="recordings_total")
    def recordings_count(self, obj: VoiceBank) -> int:
        return getattr(obj, "recordings_total", 0)

    @admin.display(description="Templates", ordering="templates_total")
    def templates_count(self, obj: VoiceBank) -> int:
        return getattr(obj, "templates_total", 0)

    @admin.display(description="Studio")
    def studio_link(self, obj: VoiceBank) -> SafeString | str:
        if not obj.pk:
            return "Upload recordings in the studio once the bank is saved."
        return format_html('<a href="{}">Upload recordings and see their quality report</a>', obj.get_absolute_url())

    def save_model(self, request: HttpRequest, obj: VoiceBank, form: Any, change: bool) -> None:
        if not change and request.user.is_authenticated:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: VoiceBank) -> None:
        obj.discard()  # the cascade would leave the recordings' files on disk

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VoiceBank]) -> None:
        for bank in queryset:
            bank.discard()
