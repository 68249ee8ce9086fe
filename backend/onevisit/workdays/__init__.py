"""The Chinese working-day calendar: special days per loaded year, the due date of a result."""
