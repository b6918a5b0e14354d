"""Swimmer plot: one bar per patient, months on DaraVd, coloured by best response, ended by why it stopped.

Past :data:`SWIMMER_MAX_PATIENTS` a bar per patient is unreadable, so the plot shows a reproducible
random sample and says so on its axis. A cohort where nobody has a treatment time gets a figure
saying there is nothing to draw.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from compendium.chapters.descriptives import equals, flag
from compendium.data.endpoints import RESPONSE_ORDER as _ORDER

RESPONSE_ORDER = [*_ORDER, "NE"]

RESPONSE_COLOURS = {  # Okabe-Ito, deepest response darkest
    "sCR": "#0072B2", "CR": "#56B4E9", "VGPR": "#009E73", "PR": "#F0E442",
    "MR": "#E69F00", "SD": "#D55E00", "PD": "#CC79A7", "NE": "#999999",
}
END_MARKERS = {  # end_reason -> (marker, label); ongoing patients get an arrow
    "PD": ("x", "stopped: progression"), "toxicity": ("^", "stopped: toxicity"),
    "death": ("s", "stopped: death"), "ASCT": ("D", "stopped: ASCT"),
    "unknown": ("o", "stopped: unknown"),
}


#: Most bars a swimmer plot draws: past this, one bar per patient is unreadable (a bar
#: narrower than a line of print), so the plot shows a random sample of this size.
SWIMMER_MAX_PATIENTS = 150
SWIMMER_SEED = 20250101


def swimmer_sample(analysis: pd.DataFrame, max_patients: int = SWIMMER_MAX_PATIENTS) -> pd.DataFrame:
    """The patients a swimmer plot shows: all of them, or a reproducible random sample of
    ``max_patients`` when there are more (same seed, same sample on a rerun)."""
    if len(analysis) <= max_patients:
        return analysis
    return analysis.sample(n=max_patients, random_state=SWIMMER_SEED)


def swimmer_plot(analysis: pd.DataFrame, width_in: float = 7.0, max_patients: int = SWIMMER_MAX_PATIENTS):
    """One bar per patient: months on DaraVd, coloured by best response, ended by why it stopped.

    With more than ``max_patients`` patients the plot shows a random sample of them
    (:func:`swimmer_sample`) and its axis label says so.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if pd.to_numeric(analysis["treatment_months"], errors="coerce").notna().sum() == 0:
        from compendium.report import plots

        return plots.nothing_to_draw("Swimmer plot", "no patient has a treatment duration", width=width_in)
    cohort_n = len(analysis)
    analysis = swimmer_sample(analysis, max_patients)
    frame = analysis.assign(
        months=pd.to_numeric(analysis["treatment_months"], errors="coerce"),
        on=flag(analysis["on_treatment"]),
    ).sort_values(["months", "patient_id"], kind="stable").reset_index(drop=True)
    fig = Figure(figsize=(width_in, 0.06 * len(frame) + 1.6))
    ax = fig.add_subplot()
    y = np.arange(len(frame))
    ax.barh(y, frame["months"], color=[RESPONSE_COLOURS.get(r, "#999999") for r in frame["best_response"]],
            height=0.8, linewidth=0)
    for reason, (marker, _) in END_MARKERS.items():
        hit = equals(frame["end_reason"], reason)
        ax.scatter(frame.loc[hit, "months"] + 0.6, y[hit.to_numpy()], marker=marker, s=12,
                   color="black", linewidths=0.8, facecolors="none" if marker in "oD" else "black", zorder=3)
    ongoing = frame["on"]
    ax.scatter(frame.loc[ongoing, "months"] + 0.8, y[ongoing.to_numpy()], marker=">", s=12, color="black", zorder=3)
    ax.set_yticks([])
    ax.set_ylim(-1, len(frame))
    ax.set_xlabel("Months on DaraVd", fontsize=9)
    if len(frame) < cohort_n:
        ax.set_ylabel(f"Random sample of {len(frame)} of {cohort_n:,} patients,\nby time on treatment", fontsize=9)
    else:
        ax.set_ylabel(f"Patients (n = {len(frame)}), by time on treatment", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right", "left"]].set_visible(False)
    present = [r for r in RESPONSE_ORDER if equals(frame["best_response"], r).any()]
    handles = [Patch(color=RESPONSE_COLOURS[r], label=r) for r in present]
    handles += [Line2D([], [], marker=m, linestyle="", color="black", markersize=4,
                       markerfacecolor="none" if m in "oD" else "black", label=label)
                for reason, (m, label) in END_MARKERS.items() if equals(frame["end_reason"], reason).any()]
    handles.append(Line2D([], [], marker=">", linestyle="", color="black", markersize=4, label="still on DaraVd"))
    ax.legend(handles=handles, title="Best response / end", fontsize=7, title_fontsize=7.5,
              frameon=False, loc="lower right")
    fig.tight_layout()
    return fig

