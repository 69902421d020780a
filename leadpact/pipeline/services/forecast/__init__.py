"""The bridge from the database to the forecast engine: learned stage probabilities, the
learned win model and slip, the period forecast (weighted pipeline, the reps' commit / best
case roll-up with the managers' adjustments, and the Monte Carlo range with the chance of
reaching the quota), the weekly snapshots of every method and their accuracy once a period
has closed.

Win probabilities for the simulation: per deal from the learned win model (stage, days in
stage, amount band, source, lead score) for a pipeline whose closed history suffices
(``win_model_fit``), else per stage (the learned rate where at least ``MIN_HISTORY`` closed
deals passed through the stage, else the configured one). The weighted pipeline always uses
the stage probabilities: it is the classic method the others are compared with.

Slip: the share of won deals that were won after their first expected close date
(``SlipLearner``, smoothed toward 20% while the history is thin). An open deal closes won in
the period with probability ``win x (1 - slip)``.
"""
