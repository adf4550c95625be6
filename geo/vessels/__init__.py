"""Vessels: ship detection in Sentinel-1 (CFAR) and Sentinel-2 (bright compact objects on water), counts per
AOI and date, and the evidence those counts give for claims whose signature is ships."""
