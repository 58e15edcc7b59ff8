"""The run panel: years, replications and seed, Run and Cancel, a progress bar.

Years, replications and seed are settings of this run, not edits of the scenario: changing
them never marks the scenario edited; they start from the scenario's values when a
scenario is opened. Quick preview runs :data:`PREVIEW_YEARS` years x 1 replication for a
first answer in a fraction of the time; progress and the estimated time left go to
``progressChanged`` (the window's status bar shows them on every tab), and "Open results"
appears when a run has finished.

The model runs in a separate process (:mod:`gui.worker`); a timer polls it every
:data:`POLL_MS` milliseconds, so the UI thread only ever does a few milliseconds of work
while a run goes on.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.document import ScenarioDocument
from gui.i18n import tr
from gui.worker import RunProcess
from sim import scenario as schema
from sim.errors import ScenarioError

POLL_MS = 50
PREVIEW_YEARS = 3
FIELD_TEXTS = ("Years", "Replications", "Seed")
STAGES = ("synthesis", "demography", "enrollment", "mobility", "traffic", "writing", "done")


class RunPanel(QWidget):
    """Run the document's scenario off the UI thread.

    Signals
    -------
    runFinished(str)
        The run folder of a completed run.
    runFailed(str, str)
        A run that could not start or failed: a headline and the message.
    """

    runFinished = Signal(str)
    runFailed = Signal(str, str)
    progressChanged = Signal(int, str)
    openResults = Signal(str)

    def __init__(self, doc: ScenarioDocument, runs_folder: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.doc = doc
        self.runs_folder = Path(runs_folder)
        self.process: RunProcess | None = None
        self.last_message = ""
        self._started = 0.0
        self._from_doc: dict[str, Any] = {}
        self.years = QSpinBox()
        self.years.setRange(1, schema.MAX_YEARS)
        self.replications = QSpinBox()
        self.replications.setRange(1, 1000)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.run_button = QPushButton()
        self.run_button.clicked.connect(lambda: self.start())
        self.preview_button = QPushButton()
        self.preview_button.clicked.connect(lambda: self.start(preview=True))
        self.open_button = QPushButton()
        self.open_button.setEnabled(False)
        self.last_run = ""
        self.open_button.clicked.connect(lambda: self.openResults.emit(self.last_run))
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.stage = QLabel()
        self.stage.setWordWrap(True)
        self.form = QFormLayout()
        self._labels = [QLabel() for _ in range(3)]
        for label, box in zip(self._labels, self._boxes().values(), strict=True):
            self.form.addRow(label, box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.stage)
        layout.addWidget(self.open_button)
        layout.addStretch(1)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self._poll)
        doc.changed.connect(self.refresh)
        self.retranslate()
        self.refresh()

    def _boxes(self) -> dict[str, QSpinBox]:
        return {"years": self.years, "replications": self.replications, "seed": self.seed}

    def retranslate(self) -> None:
        """Re-apply translated labels."""
        for label, text in zip(self._labels, FIELD_TEXTS, strict=True):
            label.setText(tr(text))
        self.run_button.setText(tr("Run"))
        self.preview_button.setText(
            tr("Quick preview ({years} years × 1 replication)").format(years=PREVIEW_YEARS)
        )
        self.open_button.setText(tr("Open results"))
        self.cancel_button.setText(tr("Cancel"))
        if not self.running:
            self.stage.setText(tr(self.last_message) if self.last_message else tr("Ready."))

    def refresh(self) -> None:
        """Take the scenario's years, replications and seed where the scenario's own changed."""
        source = self.doc.generation
        if self._from_doc.get("source") != source:  # another scenario: start from its values
            self._from_doc = {"source": source}
        for key, box in self._boxes().items():
            value = self.doc.data.get(key, box.minimum())
            if self._from_doc.get(key) != value:
                self._from_doc[key] = value
                box.setValue(int(value))

    def run_settings(self) -> dict[str, int]:
        """The years, replications and seed of the next run."""
        return {key: box.value() for key, box in self._boxes().items()}

    def run_data(self, *, preview: bool = False, years: int | None = None) -> dict[str, Any]:
        """The scenario mapping with this run's settings (validated: raises ScenarioError).

        ``preview``: at most :data:`PREVIEW_YEARS` years and one replication; ``years``
        overrides the number of years (a run extended to reach a policy).
        """
        settings = self.run_settings()
        if preview:
            settings |= {"years": min(PREVIEW_YEARS, settings["years"]), "replications": 1}
        if years is not None:
            settings["years"] = years
        data = self.doc.scenario().model_dump(mode="json") | settings
        name = self.doc.display_name()
        return schema.scenario_from_dict(data, source=name).model_dump(mode="json")

    @property
    def running(self) -> bool:
        """Whether a run is in progress."""
        return self.process is not None and not self.process.finished

    def start(self, *, preview: bool = False) -> bool:
        """Validate and start a run (a quick one with ``preview``); False when it cannot start."""
        if self.running:
            return False
        years = self._years_for_policies(preview)
        if years == 0:
            return False
        try:
            data = self.run_data(preview=preview, years=years)
        except ScenarioError as exc:
            self._show(tr("Cannot run: fix the scenario first."), str(exc))
            self.runFailed.emit(tr("Cannot run: fix the scenario first."), str(exc))
            return False
        self.process = RunProcess(data, self.runs_folder)
        self.process.start()
        self._started = time.monotonic()
        self.progress.setValue(0)
        self.stage.setText(tr("Starting the model…"))
        self.run_button.setEnabled(False)
        self.preview_button.setEnabled(False)
        self.open_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progressChanged.emit(0, tr("Starting the model…"))
        self.timer.start()
        return True

    def _years_for_policies(self, preview: bool) -> int | None:
        """Years to run so every policy falls inside the run, as the user agrees.

        None: the run's own years reach every policy; a larger number: the user agreed to
        extend the run; 0: the user declined (nothing runs).
        """
        doc = self.doc.data
        start = doc.get("start_year")
        wanted = [p.get("year") for p in self.doc.policies]
        last = max((y for y in wanted if isinstance(y, int)), default=None)
        if not isinstance(start, int) or last is None:
            return None
        years = self.years.value()
        years = min(PREVIEW_YEARS, years) if preview else years
        needed = last - start + 1
        if needed <= years or needed > schema.MAX_YEARS:
            return None  # inside the run, or beyond any run: validation says why
        late = next(p for p in self.doc.policies if p.get("year") == last)
        answer = QMessageBox.question(
            self,
            tr("Extend the run?"),
            tr(
                "The policy {policy} starts in {year}, after this run ends ({end}). "
                "Run {years} years ({start}–{year}) instead?"
            ).format(
                policy=late.get("id") or late.get("type"),
                year=last,
                end=start + years - 1,
                years=needed,
                start=start,
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Yes,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return 0
        if not preview:
            self.years.setValue(needed)  # a run setting: the scenario stays unchanged
        return needed

    def cancel(self) -> None:
        """Stop the current run (it stops within a second; nothing is written)."""
        if self.running and self.process is not None:  # running means there is a process
            self.stage.setText(tr("Cancelling…"))
            self.process.cancel()

    def _poll(self) -> None:
        if self.process is None:
            return
        for kind, value in self.process.poll():
            if kind == "progress":
                self._progress(value)
            else:
                self._finish(kind, value)

    def _progress(self, p: dict[str, Any]) -> None:
        self.progress.setValue(round(1000 * p["fraction"]))
        elapsed = time.monotonic() - self._started
        stage = tr(p["stage"]) if p["stage"] in STAGES else p["stage"]
        text = tr("Year {year} · replication {rep} · {stage} · {s:.0f} s").format(
            year=p["year"], rep=p["replication"] + 1, stage=stage, s=elapsed
        )
        left = eta_s(p["fraction"], elapsed)
        if left is not None:
            text += " · " + tr("about {s:.0f} s left").format(s=left)
        self.stage.setText(text)
        self.progressChanged.emit(round(1000 * p["fraction"]), text)

    def _finish(self, kind: str, value: str) -> None:
        self.timer.stop()
        self.run_button.setEnabled(True)
        self.preview_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if kind == "done":
            self.progress.setValue(1000)
            self.last_message = "Finished."
            self.last_run = value
            self.open_button.setEnabled(True)
            self.stage.setText(f"{tr('Finished.')} {Path(value).name}")
            self.progressChanged.emit(1000, f"{tr('Finished.')} {Path(value).name}")
            self.runFinished.emit(value)
            return
        self.progressChanged.emit(-1, "")  # nothing running: the status bar hides its bar
        if kind == "cancelled":
            self.progress.setValue(0)
            self.last_message = "Cancelled; nothing was written."
            self.stage.setText(tr(self.last_message))
        else:
            self.progress.setValue(0)
            self._show(tr("The run failed."), value)
            self.runFailed.emit(tr("The run failed."), value)

    def _show(self, headline: str, detail: str) -> None:
        self.stage.setText(f"{headline}\n{detail}")


def eta_s(fraction: float, elapsed_s: float) -> float | None:
    """Seconds left at a steady pace, or None before there is enough to tell (under 2 %)."""
    if fraction < 0.02 or fraction >= 1:
        return None
    return elapsed_s * (1 - fraction) / fraction
