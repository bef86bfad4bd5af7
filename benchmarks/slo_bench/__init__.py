"""Compare the project's SLO burn-rate alerts with Sloth's by replaying identical traffic.

``benchmarks/slo_vs_sloth.py`` is the entry point. The modules:

- :mod:`.scenarios`: the fault scenarios (data) and the input series each one replays;
- :mod:`.probe`: runs one scenario through one rule set with promtool and reads back the
  firing state at every evaluation;
- :mod:`.rulesets`: the project's SLO rule groups and Sloth's for the same SLOs;
- :mod:`.cost`: range selections and samples read per minute by a rule set;
- :mod:`.report`: verdicts, the table and the JSON document.
"""
