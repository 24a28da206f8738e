"""Clinical layer: norms, real change, contributors, questionnaire and red flags -> findings.

Pure Python over the report dict (measurement contract v1), shared by the CLI, the dashboard
and exported reports so that all of them say the same thing. It educates and measures; it
never names a diagnosis (see docs/clinical.md).
"""

from __future__ import annotations

from posture.clinical.change import (
    DEFAULT_MEASURED_ERROR_DEG,
    Asymmetry,
    Change,
    asymmetry,
    compare_reports,
    real_change,
)
from posture.clinical.findings import (
    DISCLAIMER,
    PostureDrift,
    build_findings,
    findings_summary_lines,
    posture_drift,
)
from posture.clinical.norms import (
    Classification,
    FrtResult,
    Norm,
    classify_cva,
    classify_rom,
    norms_table,
    rom_norm,
)
from posture.clinical.questionnaire import QUESTIONS, Question, Questionnaire
from posture.clinical.red_flags import RedFlagScreen, red_flag_findings, screen_red_flags

__all__ = [
    "DEFAULT_MEASURED_ERROR_DEG",
    "DISCLAIMER",
    "QUESTIONS",
    "Asymmetry",
    "Change",
    "Classification",
    "FrtResult",
    "Norm",
    "PostureDrift",
    "Question",
    "Questionnaire",
    "RedFlagScreen",
    "asymmetry",
    "build_findings",
    "classify_cva",
    "classify_rom",
    "compare_reports",
    "findings_summary_lines",
    "norms_table",
    "posture_drift",
    "real_change",
    "red_flag_findings",
    "rom_norm",
    "screen_red_flags",
]
