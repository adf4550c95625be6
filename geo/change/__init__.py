"""Change science: radiometric normalisation, change statistics, thresholds, change typing."""
