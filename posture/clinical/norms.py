"""Reference values (norms) for CVA, neck range of motion and the Flexion-Rotation Test.

Every number here comes from ``../shared/docs/clinical-reference.md`` or is a product rule
named as such; ``docs/clinical.md`` shows the same table with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from posture.measures import ROM_DIRECTIONS, ROM_KEYS

# -- sources (author, year, what we use from it) ------------------------------------------

SOURCES: dict[str, str] = {
    "textbook": "Textbook ideals of active cervical ROM (flexion 50, extension 60-80, "
    "lateral flexion 45, rotation 80 deg), as listed in clinical-reference.md",
    "swinkels2014": "Swinkels 2014 (CROM): ROM falls with age, markedly after 50; 70-90 vs "
    "20-30 y: flexion -12%, extension -32%, lateral flexion -22%, rotation -25%",
    "pan2018": "Pan 2018 (meta-analysis, 34 studies): women slightly more ROM than men, "
    "except lateral flexion",
    "christensen1998": "Christensen 1998: day-to-day ROM variation in healthy people up to "
    "12-20 deg",
    "hall_robinson2004": "Hall & Robinson 2004: FRT ~44 deg healthy vs ~28 deg toward the "
    "headache side in cervicogenic headache; global ROM can be normal",
    "hall2010": "Hall 2010: FRT positive below 32 deg (sens 75%, spec 92%) or ~30 deg",
    "ogince2007": "Ogince 2007: FRT sens 90-91%, spec 88-90%",
    "hall2008": "Hall 2008: FRT sens 90-91%, spec 88-90%",
    "physiopedia_cva": "Physiopedia 'Craniovertebral angle'; Wilmart 2002: CVA definition",
    "cva_practice": "CVA < 50 deg: common forward-head threshold in practice",
    "mostafaee2024": "Mostafaee 2024: CVA 45.5 deg best separated slight from "
    "moderate-severe forward head posture (sens 0.93, AUC 0.88)",
    "lau2009": "Lau 2009: CVA 43.9+-3.6 deg in chronic neck pain vs 50.6+-2.1 in controls",
    "fdlp2006": "Fernandez-de-las-Penas 2006: CVA 45.3+-7.6 deg in chronic tension-type "
    "headache vs 54.1+-6.3 in controls",
    "farmer2015": "Farmer 2015: no X-ray posture difference in cervicogenic headache "
    "(posture is a contributor, not proof)",
    "audette2008": "Audette 2008 (CROM): SEM 2.3-4.1 deg, MDC 5.4-9.6 deg",
    "anwar2022": "Anwar 2022 (CROM): SEM 1.5-2.9 deg, MDC 3.5-6.8 deg",
    "cva_app_mdc": "Smartphone forward-head-posture app: MDC ~5 deg (clinical-reference.md)",
    "ritthipravat2024": "Ritthipravat 2024: camera head pose for neck ROM, MAE 4.58 deg "
    "(rotation 3.60, flexion/extension 5.70)",
    "seed": "Seed handout 'Headaches and Neck Pain? Here's How Your Physical Therapist Can "
    "Help!' (Childs 2008, JOSPT 38:A1-34; Page 2011, IJSPT 6(3):254-266)",
    "product_rule": "posture product rule (no published cut-off; see docs/clinical.md)",
}

# -- range of motion ------------------------------------------------------------------------

# Movement of each direction: norms are given per movement (posture.measures).
_MOVEMENT: dict[str, str] = {d.key: d.movement for d in ROM_DIRECTIONS}
# Textbook ideal per movement (deg); extension uses the low end of 60-80 so that we do not
# over-call a reduction.
TEXTBOOK_ROM_DEG: dict[str, float] = {
    "rotation": 80.0,
    "flexion": 50.0,
    "extension": 60.0,
    "lateral_flexion": 45.0,
}
# Swinkels 2014: fraction of ROM lost at 70-90 compared with 20-30 years.
AGE_LOSS_70_PLUS: dict[str, float] = {
    "rotation": 0.25,
    "flexion": 0.12,
    "extension": 0.32,
    "lateral_flexion": 0.22,
}
# Product rule: below 80% of the reference = reduced, below 60% = markedly reduced. 20% of
# rotation (16 deg) matches the healthy day-to-day variation (12-20 deg, Christensen 1998)
# and is over three times the camera error, so noise alone rarely crosses it.
REDUCED_FRACTION = 0.80
MARKEDLY_REDUCED_FRACTION = 0.60

AgeBand = Literal["18-49", "50-69", "70+"]
DEFAULT_AGE_BAND: AgeBand = "18-49"
# Share of the 70+ loss applied per band: no loss before 50 (the loss is marked after 50),
# half of it at 50-69 (linear interpolation: a product assumption, not a published value).
_AGE_LOSS_SHARE: dict[str, float] = {"18-49": 0.0, "50-69": 0.5, "70+": 1.0}

Sex = Literal["female", "male"]
_SEX_ALIASES = {"female": "female", "f": "female", "woman": "female",
                "male": "male", "m": "male", "man": "male"}  # fmt: skip

RomLabel = Literal["within normal", "borderline", "reduced", "markedly reduced"]
CvaLabel = Literal["upright", "forward head", "marked forward head"]


@dataclass(frozen=True)
class Norm:
    """One row of the norms table: the reference for one metric in one population.

    ``reduced_below_deg``: values below it are 'reduced' ('forward head' for CVA);
    ``markedly_reduced_below_deg``: below it 'markedly reduced' ('marked forward head').
    """

    metric: str
    reference_deg: float
    reduced_below_deg: float
    markedly_reduced_below_deg: float
    age_band: str
    sex: str | None
    sources: tuple[str, ...]
    note: str = ""

    def describe(self) -> str:
        """Short reference string for evidence: 'reference 80 deg, reduced below 64 deg (...)'."""
        who = f"adults {self.age_band}" + (f", {self.sex}" if self.sex else "")
        if self.metric == "cva_deg":
            return (
                f"upright >= {self.reduced_below_deg:g} deg, marked forward head < "
                f"{self.markedly_reduced_below_deg:g} deg (adults)"
            )
        return (
            f"reference {self.reference_deg:g} deg ({who}); reduced below "
            f"{self.reduced_below_deg:g}, markedly reduced below "
            f"{self.markedly_reduced_below_deg:g} deg"
        )


@dataclass(frozen=True)
class Classification:
    """A measured value, its label, and the norm it was compared with."""

    metric: str
    value_deg: float
    label: str
    norm: Norm
    assumptions: tuple[str, ...] = ()

    @property
    def is_normal(self) -> bool:
        """Not called a deficit: within normal (upright), or borderline (below the line by
        less than the measurement's error)."""
        return self.label in ("within normal", "borderline", "upright")


def age_band(age_years: int | None) -> tuple[str, tuple[str, ...]]:
    """Age band for the norms, and what was assumed to pick it."""
    if age_years is None:
        return DEFAULT_AGE_BAND, ("age not given: adult reference (18-49) used",)
    if age_years < 18:
        return DEFAULT_AGE_BAND, ("norms are for adults; adult reference (18-49) shown",)
    if age_years < 50:
        return "18-49", ()
    if age_years < 70:
        return "50-69", ()
    return "70+", ()


def normalise_sex(sex: str | None) -> tuple[str | None, tuple[str, ...]]:
    """'female' / 'male' / None, and what was assumed."""
    if sex is None:
        return None, ("sex not given: sex-neutral reference used",)
    s = _SEX_ALIASES.get(sex.strip().lower())
    if s is None:
        return None, (f"sex '{sex}' has no separate norms: sex-neutral reference used",)
    return s, ()


def _sex_note(movement: str, sex: str | None) -> str:
    if sex is None:
        return ""
    if movement == "lateral_flexion":
        return "Pan 2018: no sex difference for lateral flexion."
    more = "slightly more" if sex == "female" else "slightly less"
    return (
        f"Pan 2018: {sex}s have {more} ROM than the other sex; the size is not adopted, so the "
        "threshold is the same for both sexes."
    )


def rom_norm(metric: str, age_years: int | None = None, sex: str | None = None) -> Norm:
    """The norm for one ROM direction, for an age band and (optionally) sex."""
    if metric not in _MOVEMENT:
        raise ValueError(f"not a range-of-motion metric: {metric!r}")
    movement = _MOVEMENT[metric]
    band, _ = age_band(age_years)
    sex_n, _ = normalise_sex(sex)
    loss = AGE_LOSS_70_PLUS[movement] * _AGE_LOSS_SHARE[band]
    ref = round(TEXTBOOK_ROM_DEG[movement] * (1.0 - loss), 1)
    sources: tuple[str, ...] = ("textbook", "product_rule")
    notes = []
    if band != "18-49":
        sources += ("swinkels2014",)
        notes.append(
            "Swinkels 2014 age loss applied"
            + (" (half of the 70-90 y loss: interpolated)" if band == "50-69" else "")
        )
    if sex_n is not None:
        sources += ("pan2018",)
        notes.append(_sex_note(movement, sex_n))
    return Norm(
        metric=metric,
        reference_deg=ref,
        reduced_below_deg=round(ref * REDUCED_FRACTION, 1),
        markedly_reduced_below_deg=round(ref * MARKEDLY_REDUCED_FRACTION, 1),
        age_band=band,
        sex=sex_n,
        sources=sources,
        note=" ".join(notes),
    )


# -- craniovertebral angle ------------------------------------------------------------------

CVA_FORWARD_HEAD_BELOW_DEG = 50.0  # common practice threshold
CVA_MARKED_BELOW_DEG = 45.5  # Mostafaee 2024
CVA_NORM = Norm(
    metric="cva_deg",
    reference_deg=50.6,  # Lau 2009 controls (mean)
    reduced_below_deg=CVA_FORWARD_HEAD_BELOW_DEG,
    markedly_reduced_below_deg=CVA_MARKED_BELOW_DEG,
    age_band="adult",
    sex=None,
    sources=("physiopedia_cva", "cva_practice", "mostafaee2024", "lau2009", "fdlp2006"),
    note="No age or sex adjustment: clinical-reference.md gives none for CVA.",
)


def _label(value_deg: float, norm: Norm, labels: tuple[str, str, str]) -> str:
    if value_deg < norm.markedly_reduced_below_deg:
        return labels[2]
    if value_deg < norm.reduced_below_deg:
        return labels[1]
    return labels[0]


def classify_cva(value_deg: float | None, error_deg: float = 0.0) -> Classification | None:
    """'upright' (>= 50), 'forward head' (45.5-50), 'marked forward head' (< 45.5); None -> None.

    ``error_deg``: the measurement's error. A reading within it of the 50 deg line, on
    either side, is 'borderline' (the camera cannot tell upright from forward there); below
    that, the label is the one the reading plus its error would get, so that the error
    never makes a posture sound worse than it may be."""
    if value_deg is None:
        return None
    labels = ("upright", "forward head", "marked forward head")
    error, line = max(error_deg, 0.0), CVA_NORM.reduced_below_deg
    if value_deg >= line:
        label = "borderline" if value_deg - line < error else "upright"
    else:
        label = _label(value_deg + error, CVA_NORM, labels)
        label = "borderline" if label == "upright" else label
    return Classification("cva_deg", float(value_deg), label, CVA_NORM)


def classify_rom(
    metric: str,
    value_deg: float | None,
    age_years: int | None = None,
    sex: str | None = None,
    error_deg: float = 0.0,
) -> Classification | None:
    """'within normal' / 'reduced' / 'markedly reduced' against :func:`rom_norm`; None -> None.

    ``error_deg``: the measurement's error. A reading is called reduced (or markedly
    reduced) only when it lies below that line by more than the error; a reading below the
    reduced line by less is 'borderline' (the camera cannot tell it from normal: a healthy
    neck on the line must not be told it is stiff), one just below the markedly-reduced
    line is 'reduced'.
    """
    if value_deg is None:
        return None
    norm = rom_norm(metric, age_years, sex)
    _, age_assumed = age_band(age_years)
    _, sex_assumed = normalise_sex(sex)
    labels = ("within normal", "reduced", "markedly reduced")
    label = _label(value_deg + max(error_deg, 0.0), norm, labels)
    if label == "within normal" and _label(value_deg, norm, labels) != "within normal":
        label = "borderline"
    return Classification(metric, float(value_deg), label, norm, age_assumed + sex_assumed)


def norms_table() -> list[Norm]:
    """Every row of the norms table (CVA, then each ROM direction x age band), for docs/UI."""
    rows = [CVA_NORM]
    for metric in ROM_KEYS:
        for age in (30, 60, 80):
            rows.append(rom_norm(metric, age))
    return rows


# -- Flexion-Rotation Test ------------------------------------------------------------------

FRT_POSITIVE_BELOW_DEG = 32.0  # Hall 2010
FRT_HEALTHY_DEG = 44.0  # Hall & Robinson 2004
# Cited only in secondary sources: shown to clinicians, never used as a positive criterion.
FRT_SIDE_DIFFERENCE_DEG = 10.0
FRT_SOURCES = ("hall_robinson2004", "hall2010", "ogince2007", "hall2008")


@dataclass(frozen=True)
class FrtResult:
    """Rotation measured while the neck is held in full flexion (chin to chest), per side.

    An approximation of the clinician-applied, passive, supine Flexion-Rotation Test:
    here the rotation is active and self-held. None = that side was not measured.
    """

    rotation_left_deg: float | None = None
    rotation_right_deg: float | None = None

    def positive_sides(self) -> tuple[str, ...]:
        """Sides whose rotation is below the published cut-off (32 deg)."""
        return tuple(
            side
            for side, v in (("left", self.rotation_left_deg), ("right", self.rotation_right_deg))
            if v is not None and v < FRT_POSITIVE_BELOW_DEG
        )
