"""The texts of the demo's evidence library: made-up final reports and evaluations of projects of ``lm2022``,
written for lmreview (no sentence comes from a real report). ``demo/evidence.py`` renders them to PDF and DOCX.

Each text is a small markup, one block per line: ``# `` the title, ``## `` a numbered section, ``### `` a
sub-heading, ``- `` a bullet, ``| label | value`` a row of a two-column table, anything else a paragraph. They follow
the extraction rules of docs/evidence.md: recommendations under "Recommendation N" headings with a table of
responsible unit, priority, time and resource implication; a "Management response" section answering each by
number; lessons, good practices, key findings and conclusions as lists under their headings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoDocument:
    filename: str  # its extension decides the format: .pdf or .docx
    doc_type: str
    project: str | None  # the project the document is about (other codes are read from its text)
    text: str


THEMATIC = """\
# Thematic evaluation of the ethical recruitment projects of the IOM Development Fund, 2016-2020
Commissioned by: IOM
Evaluation team: Helena Marsh (team leader), Tomas Okonjo
Period covered: 2016-2020
Final report date: 14 March 2022
This thematic evaluation looks at seven projects of the Fund that promoted ethical recruitment: LM.0309 in Bangladesh, LM.0329 in Morocco, LM.0333 in Jamaica, LM.0334 in Viet Nam and Nepal, LM.0356 in Asia, LM.0382 in Botswana and LM.0415 in Ukraine. It was written for the lmreview demo; the projects are real codes of the sample portfolio, the evaluation is not.
## 1. Purpose and method
The evaluation asked whether the projects changed how recruitment agencies and governments deal with fees, contracts and complaints, and whether those changes lasted. The team read the project documents, interviewed forty-one people in six countries by video call, and visited two projects.
## 2. Key findings
- Six of the seven projects left a tool in use by a public body at their end: a code of conduct, a licensing checklist or a complaints procedure.
- Changes of minister or of senior officials delayed four projects by three months or more, and in two of them the new officials asked for the work plan to be redrawn.
- Recruitment agencies joined voluntary schemes when buyers or embassies asked them to, and rarely otherwise.
- Projects that trained labour inspectors together with agency staff reported more complaints handled within the deadline than those that trained them apart.
- Travel restrictions during the Covid-19 pandemic moved most training online; attendance rose, while the share of participants who finished a course fell.
## 3. Conclusions
- The projects were relevant to national plans and to the Global Compact for Migration, and most of their outputs were delivered.
- Their lasting effect depends on whether a ministry takes over the tools; where nobody was named to do so, the tools fell out of use within a year.
- The Fund's two-year project length is short for work that needs a change of law or regulation.
## 4. Lessons learned
- A written agreement with the ministry on who will maintain a tool after the project ends matters more than the quality of the tool itself.
- Training delivered online reaches more people, but meeting the trainees once in a room at the start keeps more of them until the end.
- Agencies respond to what their clients require: involving employers in destination countries early gives a voluntary code real weight.
## 5. Good practices
- In Morocco, the complaints desk set up by LM.0329 was staffed jointly by the labour inspectorate and a workers' association, which built trust on both sides.
- In Bangladesh, LM.0309 published each licensed agency's fees online, so that workers could compare them before signing.
## 6. Recommendations
### Recommendation 1
Require every project proposal to name the public body that will maintain each tool after the project ends, and to include a signed handover plan in the final report.
| Responsible unit | IOM Development Fund; regional thematic specialists
| Priority | High
| Time implication | Short-term
| Resource implication | Low (staff time)
### Recommendation 2
Plan for turnover among government counterparts: train a second focal point in each partner ministry and keep a short handover note of agreements up to date.
| Responsible unit | Country offices; Labour Mobility Division
| Priority | High
| Time implication | Medium-term
| Resource implication | Medium
### Recommendation 3
Set aside a contingency of about five per cent of each budget for delays that the project cannot control, released on the Fund's approval.
| Responsible unit | IOM Development Fund
| Priority | Medium
| Time implication | Medium-term
| Resource implication | Medium
### Recommendation 4
Commission an ex-post evaluation of a sample of completed projects two years after their end, to learn which results last.
| Responsible unit | Central Evaluation Division
| Priority | Medium
| Time implication | Long-term
| Resource implication | High
### Recommendation 5
Make a short gender analysis a required part of every proposal on recruitment, covering the sectors where women migrants work.
| Responsible unit | Gender Coordination Unit; IOM Development Fund
| Priority | High
| Time implication | Short-term
| Resource implication | Low
### Recommendation 6
Allow projects that support a change of law or regulation to run for up to thirty-six months from the start.
| Responsible unit | IOM Development Fund
| Priority | Low
| Time implication | Medium-term
| Resource implication | Medium
## 7. Management response
### Recommendation 1
Management agrees. From the next call, the proposal template will ask for the public body that takes over each tool, and the final report template for the handover plan.
### Recommendation 2
Management agrees and will ask country offices to name two focal points in each ministry at the inception meeting.
### Recommendation 3
Management partially agrees: a contingency line will be allowed for projects in countries with an election during the project, not for every project.
### Recommendation 4
Management partially agrees. An ex-post evaluation of three projects will be commissioned in the next biennium, subject to funds being available.
### Recommendation 5
Management agrees; the gender marker guidance will be attached to the call for proposals.
### Recommendation 6
Management does not agree. The Fund's resources are meant for seed projects; a longer project can apply for a second phase instead.
"""

EX_POST = """\
# Ex-post evaluation of the Initiative for Ethical Recruitment in Morocco (LM.0329)
Commissioned by: IOM
Evaluation team: Leila Benali
Period covered: 2017-2020
Final report date: 30 June 2022
The initiative helped the Moroccan labour authorities and private agencies adopt fair recruitment rules for workers going to seasonal jobs abroad. This evaluation, written for the lmreview demo, looked at what remained two years after the end of project LM.0329.
## 1. Key findings
- The licensing checklist for private agencies is still used by the labour inspectorate and was extended to two more regions.
- The complaints desk handled 214 complaints in 2021; two thirds concerned contract terms rather than fees.
- Staff changes at the ministry in 2019 slowed the adoption of the checklist by about five months.
- Data on placements abroad could not be obtained from the agencies in a comparable form, which limits any estimate of reach.
## 2. Lessons learned
- Rules agreed with the agencies' association were applied more widely than rules set by decree alone.
- A small budget for the complaints desk after the project, paid by the ministry, kept it open when donor funds ended.
## 3. Recommendations
Recommendation 1: Publish the yearly figures of the complaints desk, by type of complaint and by region.
| Responsible unit | IOM Rabat; Ministry of Labour inspectorate
| Priority | High
| Time implication | Short-term
| Resource implication | Low
Management response: The mission agrees and will publish the 2022 figures with the ministry in the first quarter.
Recommendation 2: Agree with the agencies' association on a common form for reporting placements abroad.
| Responsible unit | IOM Rabat
| Priority | Medium
| Time implication | Medium-term
| Resource implication | Low
Management response: The mission partially agrees; a common form will be proposed, but reporting stays voluntary for the agencies.
Recommendation 3: Extend the checklist to recruitment for domestic work within the country.
Management response: The mission does not agree, as domestic recruitment is outside the mandate of the initiative's partners.
"""

LM0301 = """\
# Final report of project LM.0301: skills recognition, recruitment and labour migration information for ASEAN
Commissioned by: IOM
Final report date: 15 February 2020
This is the final narrative report of LM.0301, written for the lmreview demo. The project supported labour ministries of ASEAN member states in recognising the skills of returning migrants and in sharing labour market information.
## 1. Results
Two regional workshops agreed on a common template for recording prior learning. Four countries piloted it with a total of 860 returning workers, and the template was presented to the ASEAN labour ministers' meeting.
## 2. Challenges and how they were addressed
The national statistics offices could not share the labour market data they held in time for the first workshop, so the project used published survey tables instead and postponed the data exchange to the second year.
After a new regional work plan was adopted in 2018, skills recognition moved down the agenda of two ministries; the project refocused its support on the two countries that kept it as a priority.
Recruiting the project's regional coordinator took seven months because of the organisation's internal procedures, which delayed the start of all activities.
## 3. Lessons learned
- Regional templates are taken up faster when a country has tried them first and can show its own results.
- Data sharing needs a written agreement signed before the activities that depend on it begin.
## 4. Good practices
- Returning workers who had their skills recognised presented the pilot to the ministers themselves.
"""

LM0307 = """\
# Final report of project LM.0307: labour mobility in the East African Community
Commissioned by: IOM
Final report date: 20 January 2021
This final narrative report of LM.0307 was written for the lmreview demo. The project helped the partner states of the East African Community put into practice the free movement of workers agreed in their common market protocol.
## 1. Results
A regional guide on issuing work permits was adopted by the sectoral council, and officials from five partner states were trained on it.
## 2. Challenges and how they were addressed
The consultant hired to draft the regional guide left after the first draft; a second consultant had to start again from the comments, and the guide was finished four months late.
Border closures during the Covid-19 pandemic postponed the last two trainings from April to November 2020, when they were held online.
## 3. Lessons learned
- Keeping the drafts and comments of a consultant in a shared folder lets a replacement continue the work instead of starting over.
- Online trainings for officials work best in short sessions of two hours spread over several days.
## 4. Recommendations
- Translate the regional guide into French and Kiswahili before the next training cycle.
- Ask each partner state to name one official who keeps the guide up to date.
"""

LM0325 = """\
# Final report of project LM.0325: strengthening labour migration management in Botswana
Commissioned by: IOM
Final report date: 8 April 2021
This final narrative report of LM.0325 was written for the lmreview demo. The project supported the government of Botswana in drafting a labour migration policy and in training officials on the rights of migrant workers.
## 1. Results
A draft national labour migration policy was validated with employers, unions and civil society, and ninety officials were trained. The policy awaits adoption by the cabinet.
## 2. Challenges and how they were addressed
Three permanent secretaries headed the ministry during the project, and each change meant presenting the draft policy again to a new team.
The national elections of 2019 shifted the government's priorities towards youth employment, so the policy was reframed around skills for young people.
Lockdowns during the Covid-19 pandemic stopped the validation meetings for five months; they resumed online in small groups.
Some employers' associations were reluctant to discuss the rights of domestic workers, a subject the project addressed through separate meetings with women's groups.
## 3. Lessons learned
- Briefing notes of one page for each new senior official saved months when the leadership of the ministry changed.
- Linking the policy to a priority of the day, youth employment, kept it on the cabinet's agenda.
## 4. Good practices
- The validation meetings brought employers and unions into the same room for the first time on migration.
"""

LM0333 = """\
# Final report of project LM.0333: integrity in international recruitment and migrant skills in Jamaica
Commissioned by: IOM
Final report date: 2 October 2020
This final narrative report of LM.0333 was written for the lmreview demo. The project worked with the ministry of labour in Jamaica on the licensing of recruiters and on the skills of workers taking seasonal jobs abroad.
## 1. Results
A code of conduct for licensed recruiters was drafted and signed by twelve agencies. The planned skills certification reached only part of the workers, so the second outcome was reached in part.
## 2. Challenges and how they were addressed
Figures on how many Jamaicans worked abroad through private recruiters were incomplete and differed between sources, so the baseline had to be rebuilt from a survey of the agencies.
Many workers saw paying a fee to a recruiter as normal, which made them reluctant to report abuses; the project ran a radio campaign on workers' rights in two parishes.
## 3. Lessons learned
- A survey of agencies at the start gives a better baseline than the registers, and shows which agencies are willing to take part.
- Messages on workers' rights reached more people through radio programmes than through leaflets.
"""

LM0416 = """\
# Final report of project LM.0416: empowering circular migrant women workers in Morocco
Commissioned by: IOM
Final report date: 12 May 2022
This final narrative report of LM.0416 was written for the lmreview demo. The project supported women from rural Morocco who take seasonal farm jobs abroad, before they leave and after they return.
## 1. Results
Pre-departure sessions reached 1,240 women, and 310 returnees started a small business or a cooperative with the project's coaching.
## 2. Challenges and how they were addressed
The seasonal recruitment of 2020 was cancelled because of the Covid-19 pandemic, so the pre-departure sessions were moved to the following season and the budget was reallocated to coaching returnees.
The project's focal point at the employment agency changed twice, and the new focal points had to be briefed on the agreed work plan each time.
The government's attention turned to the return of stranded workers in 2020, which delayed the agreement on the reintegration package by several months.
## 3. Lessons learned
- Coaching returnees in groups from the same village helped them keep in touch and support one another after the project.
## 4. Good practices
- Each returnee's business plan was reviewed by a local bank officer, which made it easier for the women to obtain small loans.
"""

DOCUMENTS = (
    DemoDocument("thematic-evaluation-ethical-recruitment-2022.pdf", "evaluation_report", None, THEMATIC),
    DemoDocument("ex-post-evaluation-lm0329.docx", "evaluation_report", "LM.0329", EX_POST),
    DemoDocument("final-report-lm0301.pdf", "final_report", "LM.0301", LM0301),
    DemoDocument("final-report-lm0307.docx", "final_report", "LM.0307", LM0307),
    DemoDocument("final-report-lm0325.pdf", "final_report", "LM.0325", LM0325),
    DemoDocument("final-report-lm0333.docx", "final_report", "LM.0333", LM0333),
    DemoDocument("final-report-lm0416.pdf", "final_report", "LM.0416", LM0416),
)
