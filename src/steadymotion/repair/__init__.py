"""Repair of the drift the meter finds: deflicker, colour re-anchoring, stabilisation of jitter,
segment joins (:mod:`.deflicker`, :mod:`.colour`, :mod:`.stabilise`, :mod:`.joins`), planned from the
drift report and a tracking pass (:mod:`.plan`, :mod:`.track`, :mod:`.spans`) and reported
(:mod:`.report`). The pipeline that runs them is :func:`steadymotion.pipelines.repair_video`.
"""

from steadymotion.repair.joins import Join, find_joins
from steadymotion.repair.plan import REPAIR_KINDS, RepairPlan, parse_kinds, plan_repairs, repair_frame
from steadymotion.repair.track import Track, track_video

__all__ = ["REPAIR_KINDS", "Join", "RepairPlan", "Track", "find_joins", "parse_kinds", "plan_repairs", "repair_frame",
           "track_video"]
