"""Privacy accounting: noise calibration, spent epsilon, zCDP conversions."""
