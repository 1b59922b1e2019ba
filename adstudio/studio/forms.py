"""The admin's forms: the template (clip, poster, stems judged by content), phrase-bank takes, context tables,
voice banks and their recordings."""

from __future__ import annotations

import csv
import io
import secrets
from pathlib import Path
from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from adstudio.catalog.models import ContextTable, PhraseRecording, Template, VoiceBank
from adstudio.trust import uploads


class TemplateAdminForm(forms.ModelForm):
    fan_track = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        help_text="The face the fan replaces. The choices appear once the clip is analysed.",
    )

    class Meta:
        model = Template
        fields = [
            "title", "slug", "clip", "poster", "published", "label_corner", "swap_face", "fan_track",
            "dialogue_stem", "music_stem", "voice_bank",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tracks = self.instance.tracks if self.instance and self.instance.pk else []
        choices: list[tuple[Any, str]] = [("", "(none yet)" if not tracks else "(choose a face)")]
        choices += [(t["id"], f"Track {t['id']}: frames {t['start']}-{t['end']}") for t in tracks]
        cast(forms.TypedChoiceField, self.fields["fan_track"]).choices = choices

    def clean_clip(self) -> Any:
        clip = self.cleaned_data.get("clip")
        if isinstance(clip, UploadedFile):
            clip.name = f"{secrets.token_hex(8)}{uploads.check_video(clip)}"
        return clip

    def _clean_stem(self, name: str) -> Any:
        return uploads.check_audio(self.cleaned_data.get(name))

    def clean_dialogue_stem(self) -> Any:
        return self._clean_stem("dialogue_stem")

    def clean_music_stem(self) -> Any:
        return self._clean_stem("music_stem")

    def clean_poster(self) -> Any:
        poster = self.cleaned_data.get("poster")
        if isinstance(poster, UploadedFile):
            extension = uploads.check_image(poster, settings.SELFIE_MAX_BYTES, settings.SELFIE_MAX_PIXELS)
            kind = next(k for k, ext in uploads.IMAGE_EXTENSIONS.items() if ext == extension)
            return uploads.pixels_only(poster, kind, f"{secrets.token_hex(8)}{extension}")
        return poster

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        ready = self.instance.analysis_status == Template.Analysis.READY
        analysed = ready and (data.get("fan_track") is not None or data.get("swap_face") is False)
        # A new clip is analysed after saving; the catalog shows it once that is done.
        if data.get("published") and not analysed and "clip" not in self.changed_data:
            self.add_error("published", "Only an analysed template with a chosen face can be published.")
        return data


class PhraseRecordingForm(forms.ModelForm):
    class Meta:
        model = PhraseRecording
        fields = ["template", "text", "audio"]

    def clean_audio(self) -> Any:
        return uploads.check_audio(self.cleaned_data.get("audio"))


class ContextTableForm(forms.ModelForm):
    """Rows typed as JSON, or uploaded as a two-column CSV (key, text) that replaces them."""

    rows_csv = forms.FileField(required=False, label="Rows from CSV",
                               help_text="Two columns, e.g. city,dish; a header row is skipped if it names them.")

    class Meta:
        model = ContextTable
        fields = ["template", "key_field", "target", "rows", "rows_csv"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rows"].required = False

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("rows_csv")
        if upload:
            try:
                text = upload.read(1_000_000).decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError("The CSV must be UTF-8 text.") from None
            header = {data.get("key_field"), data.get("target")}
            rows = {r[0].strip(): r[1].strip() for r in csv.reader(io.StringIO(text)) if len(r) >= 2}
            rows = {k: v for k, v in rows.items() if k and v and {k, v} != header}
            if not rows:
                raise forms.ValidationError("No rows found: the CSV needs two columns, key and text.")
            data["rows"] = rows
            self.instance.rows = rows
        return data


class VoiceBankForm(forms.ModelForm):
    class Meta:
        model = VoiceBank
        fields = ["celebrity", "licence", "licensed_until"]
        widgets = {
            "licence": forms.Textarea(attrs={"rows": 3}),
            "licensed_until": forms.DateInput(attrs={"type": "date"}),
        }


class VoiceRecordingForm(forms.Form):
    """One recording of the celebrity, judged by its bytes (uploads.check_voice_recording), stored under a
    random name; the admin's own file name is kept only as text, to show."""

    audio = forms.FileField(
        label="Recording",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*,.wav,.flac,.mp3,.m4a,.aac,.ogg,.opus,.webm"}),
        error_messages={
            "required": "Please choose a recording to upload.",
            "empty": "This file is empty. Please choose the recording again.",
        },
        help_text="Clean speech of the celebrity alone (no music, no other voices): WAV, FLAC, MP3, M4A, OGG.",
    )

    def clean_audio(self) -> Any:
        upload = self.cleaned_data["audio"]
        self.original_name = Path(str(upload.name or "recording")).name[:255]
        extension = uploads.check_voice_recording(upload, settings.VOICE_RECORDING_MAX_BYTES)
        upload.name = f"{secrets.token_hex(8)}{extension}"
        return upload


class VoiceBankTemplatesForm(forms.Form):
    templates = forms.ModelMultipleChoiceField(
        queryset=Template.objects.order_by("title"), required=False, widget=forms.CheckboxSelectMultiple,
        label="Templates that use this voice",
    )


class TemplateVoiceForm(forms.Form):
    voice_bank = forms.ModelChoiceField(
        queryset=VoiceBank.objects.all(), required=False, empty_label="(none: the template clip alone)",
        label="Voice bank",
    )
