"""Portfolio snapshot at an as-of date: holdings x prices x FX, with findings."""
