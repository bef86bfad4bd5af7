"""Pull-request review of monitoring changes: what two revisions provision, compared
(``monitoring diff``), and how their alerts would have behaved on recorded data
(``monitoring backtest``). Both read each revision's committed, generated artifacts, never its
code."""
