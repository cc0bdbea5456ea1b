"""The figures of a load run, printed: per system and round as `bench/load_run.py` measured
them, then the ratios that count on a shared, noisy machine — each taken within one round
(the systems of a round ran back to back) and the median over rounds reported."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any

NAMES = {"bot": "this bot", "durable": "durable floor", "floor": "floor", "form": "form bot",
         "echo": "echo bot", "bot-limited": "this bot, rate limiter on"}
KINDS = ("start", "consent", "text", "button", "upload", "command")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def micros_per_update(result: dict[str, Any]) -> float:
    return 1e6 * result["seconds"] / max(1, result["updates"])


def throughput(result: dict[str, Any]) -> float:
    return result["updates"] / result["seconds"] if result["seconds"] else 0.0


def spread(values: list[float]) -> str:
    return (f"p50 {percentile(values, 0.5):>8,.0f}  p95 {percentile(values, 0.95):>8,.0f}  "
            f"p99 {percentile(values, 0.99):>8,.0f}")


def systems_table(rounds: list[dict[str, dict[str, Any]]]) -> list[str]:
    lines = [f"{'system':26} {'updates/s':>10} {'µs/update':>10}   response time per update, µs "
             f"(under load){'':8} {'peak RSS':>9} {'DB on disk':>11}"]
    for system in rounds[0]:
        results = [r[system] for r in rounds if system in r]
        latencies = [t[3] for r in results for t in r["timings"]]
        lines.append(
            f"{NAMES.get(system, system):26} {statistics.median(map(throughput, results)):>10,.0f} "
            f"{statistics.median(map(micros_per_update, results)):>10,.0f}   {spread(latencies)}   "
            f"{max(r['rss_kb'] for r in results) / 1024:>6,.0f} MB "
            f"{results[-1]['db_bytes'] / 1e6:>8,.1f} MB")
    return lines


def kinds_table(results: list[dict[str, Any]]) -> list[str]:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for _vacancy, _step, kind, micros in result["timings"]:
            by_kind[kind].append(micros)
    return [f"  {kind:10} {len(by_kind[kind]):>7} updates   {spread(by_kind[kind])}"
            for kind in KINDS if by_kind[kind]]


def position_ratio(results: list[dict[str, Any]],
                   answers: dict[int, list[int]]) -> tuple[float, float, float]:
    """Median µs of each application's first question answer and of its last (uploads and
    commands aside), and their ratio."""
    first: list[float] = []
    last: list[float] = []
    for result in results:
        for vacancy, step, _kind, micros in result["timings"]:
            positions = answers[vacancy]
            if step == positions[0]:
                first.append(micros)
            elif step == positions[-1]:
                last.append(micros)
    a, b = statistics.median(first), statistics.median(last)
    return a, b, b / a


def within_rounds(rounds: list[dict[str, dict[str, Any]]], top: str, bottom: str,
                  measure: Any) -> float | None:
    ratios = [measure(r[top]) / measure(r[bottom]) for r in rounds if top in r and bottom in r]
    return statistics.median(ratios) if ratios else None


def verdict(value: float | None, limit: float, at_most: bool) -> str:
    if value is None:
        return "n/a"
    ok = value <= limit if at_most else value >= limit
    return f"{value:6.2f}×   target {'≤' if at_most else '≥'}{limit:g}×   {'met' if ok else 'NOT met'}"


def main_report(rounds: list[dict[str, dict[str, Any]]], database: str,
                answers: dict[int, list[int]]) -> list[str]:
    bots = [r["bot"] for r in rounds]
    lines = [*systems_table(rounds), "",
             "this bot, response time per kind of step (µs, includes waiting behind the others):",
             *kinds_table(bots)]
    first, last, ratio = position_ratio(bots, answers)
    lines.append(f"  by position: first question answer p50 {first:,.0f} µs, last {last:,.0f} µs: "
                 f"{verdict(ratio, 1.5, True)}")
    checks = [f"  {len(r['counts']['dossiers'])} status(es): {r['counts']['dossiers']}, "
              f"{r['counts']['notifications_sent']} recruiter notifications sent, "
              f"{len(r['order_problems'])} order problems" for r in bots[-1:]]
    limit = 1.5 if database == "sqlite" else 2.0
    lines += ["", f"ratios, median of {len(rounds)} within-round ratio(s):",
              "  this bot / durable floor, µs per update: "
              + verdict(within_rounds(rounds, "bot", "durable", micros_per_update), limit, True),
              "  this bot / floor, µs per update:         "
              + verdict(within_rounds(rounds, "bot", "floor", micros_per_update), 1e9, True)
              .replace("target ≤1e+09×   met", "(no target)"),
              "  throughput this bot / form bot:          "
              + verdict(within_rounds(rounds, "bot", "form", throughput), 10, False),
              "", "last round, this bot's database:", *checks]
    return lines


def latency_report(results: dict[str, dict[str, Any]], latency_ms: float) -> list[str]:
    lines = [f"every Telegram call waits {latency_ms:g} ms; {results['bot']['updates']} updates "
             f"per system, all candidates at once:"]
    for system, result in results.items():
        problems = result["order_problems"]
        calls = result["telegram_calls"] / result["seconds"]
        lines.append(f"  {NAMES.get(system, system):26} {throughput(result):>8,.1f} updates/s   "
                     f"{calls:>6,.1f} Telegram calls/s   "
                     f"replies in order: {'yes' if not problems else f'NO ({len(problems)})'}")
    limited = results.get("bot-limited")
    if limited is not None:
        per_update = limited["chat_calls"] / limited["updates"]
        lines.append(f"  AIORateLimiter (TELEGRAM_MAX_RATE=30 calls/s over the calls that name a chat,"
                     f" 20/min per group) — this bot makes {per_update:.2f} such calls per update "
                     f"(replies, removed buttons; answered presses and downloads name none): at most"
                     f" {30 / per_update:,.1f} updates/s. That limit, not the bot, bounds it as "
                     f"deployed; the recruiters' group gets 20 messages a minute, so notifications "
                     f"queue in the outbox.")
    return lines
