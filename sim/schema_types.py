"""Field types shared by the scenario schema and the policy classes.

:data:`FiniteFloat` is a float that refuses NaN, infinities and ``true``/``false``;
:data:`Integer` an integer that refuses ``true``/``false`` (pydantic would read them as 1
and 0); :data:`Year` a calendar year between :data:`MIN_YEAR` and :data:`MAX_YEAR`. Add
range constraints with ``Field(...)`` as usual::

    share: FiniteFloat = Field(0.5, ge=0, le=1)
    year: Year
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field

MIN_YEAR = 1990
MAX_YEAR = 2100


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):
        msg = f"{str(value).lower()} is a boolean; a number is required here"
        raise ValueError(msg)
    return value


#: A finite float (NaN and +-inf are refused, and so are booleans).
FiniteFloat = Annotated[float, BeforeValidator(_no_bool), Field(allow_inf_nan=False)]
#: An integer; booleans are refused.
Integer = Annotated[int, BeforeValidator(_no_bool)]
#: A calendar year the model can simulate.
Year = Annotated[Integer, Field(ge=MIN_YEAR, le=MAX_YEAR)]
