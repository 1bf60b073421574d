"""The upload form of an import: a CSV file, or a block pasted from a spreadsheet."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from imports.parsing import BadFile, ParsedFile, parse


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        required=False,
        help_text="UTF-8 (with or without a byte-order mark); comma, semicolon or tab.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
    )
    pasted = forms.CharField(
        label="Or paste the rows",
        required=False,
        strip=False,
        help_text="Copy the cells from the spreadsheet, the header row included, and paste them.",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.parsed: ParsedFile | None = None
        self.file_name = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        pasted: str = cleaned.get("pasted") or ""
        if upload and pasted.strip():
            raise forms.ValidationError("Upload a file or paste rows, not both.")
        if upload:
            limit = settings.IMPORT_MAX_BYTES
            data = upload.read(limit + 1)
            self.file_name = upload.name or "upload.csv"
            field = "file"
        elif pasted.strip():
            data = pasted.encode("utf-8")
            self.file_name = "Pasted rows"
            field = "pasted"
        else:
            raise forms.ValidationError("Choose a CSV file, or paste the rows.")
        try:
            self.parsed = parse(data)
        except BadFile as exc:
            self.add_error(field, exc.message)
        return cleaned
