"""The codebooks lmreview ships: the implementation challenges of the 2022 labour-migration questionnaire (its
question 16, one code per challenge it lists) and the six OECD-DAC evaluation criteria. The descriptions are
inclusion rules written for lmreview."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StarterCode:
    name: str
    description: str
    colour: str


@dataclass(frozen=True)
class Starter:
    name: str
    title: str
    description: str
    codes: tuple[StarterCode, ...]


def _c(name: str, description: str, colour: str) -> StarterCode:
    return StarterCode(name, description, colour)


CHALLENGES = Starter(
    "challenges-2022",
    "Implementation challenges (2022 questionnaire, question 16)",
    "One code per challenge the questionnaire offers; apply it where an answer or a report says the project met it.",
    (
        _c(
            "Changing governmental counterparts",
            "Staff turnover or reassignment on the government side slowed or reset the work.",
            "#1f77b4",
        ),
        _c(
            "Changing governmental priorities", "The government's agenda moved away from the project's aims.", "#aec7e8"
        ),
        _c(
            "Consultant challenges",
            "Hiring, keeping or relying on consultants caused delay or weaker outputs.",
            "#ff7f0e",
        ),
        _c("Difficulty accessing existing data", "Data that existed could not be obtained or used in time.", "#ffbb78"),
        _c("Social/cultural norms", "Beliefs or customs in the setting limited take-up or participation.", "#2ca02c"),
        _c(
            "IOM internal challenges",
            "The organisation's own processes, staffing or structures held the project back.",
            "#98df8a",
        ),
        _c(
            "Lack of buy-in by governmental counterparts",
            "Officials did not commit to, own or act on the project.",
            "#d62728",
        ),
        _c(
            "Lack of collaboration by partners",
            "Implementing or technical partners did not play their part.",
            "#ff9896",
        ),
        _c(
            "Lack of coordination amongst agencies",
            "Agencies working on the same issue did not align their work.",
            "#9467bd",
        ),
        _c("Lack of funding", "The budget fell short of what the activities required.", "#c5b0d5"),
        _c(
            "Lack of reliable information",
            "The information at hand was incomplete, outdated or contradictory.",
            "#8c564b",
        ),
        _c(
            "Lack of research capacity",
            "Too few people or institutions could design or carry out the research.",
            "#c49c94",
        ),
        _c(
            "Lack of collaboration/participation by members of the community",
            "Community members did not take part or engage as planned.",
            "#e377c2",
        ),
        _c("Environmental hazards", "Floods, storms, drought or other natural events disrupted the work.", "#f7b6d2"),
        _c("Covid-19", "The pandemic or the measures taken against it affected the project.", "#7f7f7f"),
        _c(
            "Political instability ex-ante project approval",
            "Instability that already existed when the project was approved.",
            "#c7c7c7",
        ),
        _c(
            "Political instability ex-post project approval",
            "Instability that arose after the project was approved.",
            "#bcbd22",
        ),
        _c(
            "External administrative issues",
            "Procedures of outside bodies (permits, clearances, procurement rules) caused delay.",
            "#dbdb8d",
        ),
        _c(
            "Internal administrative issues",
            "The project's own administration (procurement, finance, contracts) caused delay.",
            "#17becf",
        ),
        _c("Other", "A challenge none of the codes above describes; say which in the memo.", "#9edae5"),
    ),
)

DAC = Starter(
    "dac-criteria",
    "OECD-DAC evaluation criteria",
    "The six criteria evaluations are organised by; apply the one a passage or an answer gives evidence on.",
    (
        _c(
            "Relevance",
            "Whether the aims and design answer the needs and priorities of the people, the "
            "institutions and the country concerned, and keep doing so as things change.",
            "#4e79a7",
        ),
        _c(
            "Coherence",
            "How well the work fits with other interventions and policies in the same country, sector or institution.",
            "#f28e2b",
        ),
        _c(
            "Effectiveness",
            "How far the objectives and results were reached, or are expected to be, and why.",
            "#e15759",
        ),
        _c("Efficiency", "Whether results were delivered economically and on time for the resources used.", "#76b7b2"),
        _c(
            "Impact",
            "Higher-level effects, intended or not, positive or negative, that the work caused or helped cause.",
            "#59a14f",
        ),
        _c("Sustainability", "Whether the benefits last, or are likely to last, after the funding ends.", "#edc948"),
    ),
)

STARTERS = {s.name: s for s in (CHALLENGES, DAC)}
