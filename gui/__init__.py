"""The planner's desktop: PySide6 views over :mod:`sim` (no model logic lives here).

``python main.py`` (or ``python main.py gui``) opens the app; see :mod:`gui.app`.
"""

# The scenario schema is imported before any Qt module on purpose: PySide6's import hook
# breaks pydantic's lazy submodule imports when Qt is loaded while pydantic is only partly
# imported (ImportError "partially initialized module pydantic._internal._validators").
import sim.scenario  # noqa: F401
