"""Education: schools and catchments, enrollment, forecasts from records, the family query."""
