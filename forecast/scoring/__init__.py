"""Keeping score: questions resolved, forecasts and baselines scored, backtests and the scorecard.

Modules: ``rules`` (proper scores and calibration statistics, pure numpy), ``resolution`` (questions
and checkpoints resolved from the observations), ``track`` (claims borne out or falsified),
``calibration`` (every stored run and the baselines scored), ``backtest`` (re-runs as of past dates)
and ``scorecard`` (the summary by forecaster). The package sits above ``runs`` and below the report
and the command line; nothing below it imports it.
"""
