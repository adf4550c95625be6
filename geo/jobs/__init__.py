"""The change job's spine and its per-sensor kits.

``spine.run_job(job, kit)`` is one change job for any sensor: the grid from the AOI, the AOI mask, the step
timer, the pair's identity, claim judging and the manifest are written once there; what differs per sensor
(pair selection, reading, alignment, the detector and its statistic) is a kit (``kit.SensorKit``):
``optical_kit.OpticalKit`` for Sentinel-2, ``sar_kit.SarKit`` for Sentinel-1, chosen by ``kits.kit_for``.
Nothing is imported here: ``geo recheck`` with nothing new must not load the processing path.
"""
