"""The learner's results as plots: accuracy by category, answers per day and week, what is due.

They are the same plot data as the calculators' (app.plots), drawn by the same `_plot.html`.
"""

from app.plots import BarPlot, BarSeries, joined, words
from app.progress import Progress, Tally
from app.web.i18n import STRINGS

RIGHT = STRINGS["correct"]
WRONG = STRINGS["incorrect"]


def _count_axis_end(counts: list[int]) -> float:
    """At least 5, so that a few answers still get whole-number ticks."""
    return float(max(5, *counts))


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "–"


def category_plot(rows: list[tuple[str, float, str]]) -> BarPlot:
    """Accuracy per category: rows of (category title, accuracy, "right/asked")."""
    return BarPlot(
        title=joined(STRINGS["accuracy"], " · ", STRINGS["by_category"]),
        summary="; ".join(f"{name}: {caption}" for name, _, caption in rows),
        categories=[name for name, _, _ in rows],
        series=[BarSeries(STRINGS["accuracy"], [accuracy for _, accuracy, _ in rows], "third")],
        x_label="",
        y_label=STRINGS["accuracy"],
        horizontal=True,
        top=1.0,
        captions=[caption for _, _, caption in rows],
    )


def _right_and_wrong(periods: list[Tally]) -> list[BarSeries]:
    return [
        BarSeries(RIGHT, [period.right for period in periods], "right"),
        BarSeries(WRONG, [period.wrong for period in periods], "wrong"),
    ]


def daily_plot(stats: Progress) -> BarPlot:
    """Answers per day, right ones stacked under wrong ones."""
    busiest = max(stats.per_day, key=lambda day: day.answered)
    return BarPlot(
        title=STRINGS["answers_per_day"],
        summary=words(
            f"{sum(day.answered for day in stats.per_day)} answers in "
            f"{len(stats.per_day)} days; most on {busiest.start}: "
            f"{busiest.right} right, {busiest.wrong} wrong",
            f"{len(stats.per_day)} 日間で {sum(day.answered for day in stats.per_day)} 問。"
            f"最多は {busiest.start} の正解 {busiest.right}・不正解 {busiest.wrong}",
        ),
        categories=[day.start[5:] for day in stats.per_day],
        series=_right_and_wrong(stats.per_day),
        x_label=words("day", "日付"),
        y_label=words("answers", "解答数"),
        stacked=True,
        top=_count_axis_end([day.answered for day in stats.per_day]),
    )


def weekly_plot(stats: Progress) -> BarPlot:
    """Accuracy per week; a week without answers has no bar."""
    weeks = stats.per_week
    return BarPlot(
        title=STRINGS["accuracy_per_week"],
        summary="; ".join(
            f"{week.start}: {_percent(week.right, week.answered)} ({week.right}/{week.answered})"
            for week in weeks
            if week.answered
        ),
        categories=[week.start[5:] for week in weeks],
        series=[
            BarSeries(
                STRINGS["accuracy"],
                [week.right / week.answered if week.answered else 0.0 for week in weeks],
                "third",
            )
        ],
        x_label=words("week starting", "週の初日"),
        y_label=STRINGS["accuracy"],
        top=1.0,
    )


def due_plot(stats: Progress) -> BarPlot:
    return BarPlot(
        title=STRINGS["due_next_week"],
        summary=", ".join(f"{day}: {count}" for day, count in stats.due_per_day),
        categories=[day[5:] for day, _ in stats.due_per_day],
        series=[BarSeries(STRINGS["due_next_week"], [count for _, count in stats.due_per_day])],
        x_label=words("day", "日付"),
        y_label=words("cards", "カード数"),
        top=_count_axis_end([count for _, count in stats.due_per_day]),
    )
