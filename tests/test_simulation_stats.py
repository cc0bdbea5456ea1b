"""`simulate --stats`: the figures per conversation and the limits they are held to."""

from __future__ import annotations

from bot.simulation_stats import LIMIT_ANY, figures, report, verdict_openings


def test_verdict_messages_are_recognised_by_their_heading_in_every_language():
    openings = verdict_openings()
    assert "✅ Volgens je antwoorden voldoe je aan de voorwaarden voor " in openings
    assert "❓ Whether you qualify for " in openings
    row = figures("x", ["✅ Volgens je antwoorden voldoe je aan de voorwaarden voor X." + "a" * 700,
                        "Vraag 1 van 4 · Over jou"], openings)
    assert (row.count, row.verdict_longest) == (2, 760)


def test_the_report_says_whether_the_limits_hold():
    short = [("a.yaml", ["x" * 120, "y" * 200])]
    table, ok = report(short)
    assert ok and "within the limits" in table and "a.yaml" in table
    table, ok = report([*short, ("b.yaml", ["z" * (LIMIT_ANY + 1)])])
    assert not ok and "1 over 1000 characters" in table
