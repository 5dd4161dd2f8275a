/*
 * quality_eval_test.c — the evaluation harness of the defect verdicts
 * (src/core/quality_defects.c), in the manner of eta_eval_test.c.
 *
 * Generates CLEAN conversations (2 to 20 turns, one to six sentences a turn
 * from phrase pools in English, French, German, Spanish, Russian and
 * Chinese, with numbers, lists, code and emoji, and the polite phrases a
 * detector must not take for defects: "I'm sorry to hear that", "I can
 * help", single braces, balanced code fences), then for each clean one a
 * copy with ONE planted defect of each kind, phrased and placed at random:
 * placeholders of every syntax the renderer knows, special tokens, refusals
 * written in ways the phrase list does not hold literally (typographic
 * apostrophes, upper case, "A.I.", extra commas, other languages), cuts of
 * the last turn at a random word, white space of many kinds, loops of 3 to
 * 40 words repeated 3 to 12 times inline or on lines, copied turns, roles
 * out of order, one-sided conversations, too few turns, and expectations
 * far from the length.  Prints, per kind, how many are caught, and the
 * false alarms on the clean ones; fails below 95 % caught overall, 80 % for
 * any kind, or above 5 % false alarms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quality.h"
#include "quality_defects.h"
#include "unit.h"

#define CONVERSATIONS 400
#define MAX_TURNS 64
#define TURN_BYTES 8192

/* Deterministic pseudo-random numbers. */
static unsigned long long rng_state = 20240617;
static unsigned
rnd(unsigned n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned) (rng_state >> 33) % n;
}

#define PICK(a) ((a)[rnd(sizeof(a) / sizeof((a)[0]))])

/* A conversation being built. */
typedef struct conv
{
	int			n;
	char		role[MAX_TURNS][16];
	char		text[MAX_TURNS][TURN_BYTES];
	int			lang;
} conv;

/* --- phrase pools (%s: a topic, %d: a number) --------------------------- */

static const char *const topics[6][8] = {
	{"savings", "a mortgage", "the pension", "student loans", "a budget", "index funds", "insurance", "taxes"},
	{"l'épargne", "un prêt immobilier", "la retraite", "le budget", "les impôts", "l'assurance", "un placement", "le loyer"},
	{"das Sparen", "die Hypothek", "die Rente", "das Budget", "die Steuern", "die Versicherung", "den Fonds", "die Miete"},
	{"el ahorro", "la hipoteca", "la jubilación", "el presupuesto", "los impuestos", "el seguro", "un fondo", "el alquiler"},
	{"сбережения", "ипотеку", "пенсию", "бюджет", "налоги", "страховку", "вклад", "аренду"},
	{"储蓄", "房贷", "养老金", "预算", "税务", "保险", "基金", "房租"},
};

static const char *const user_lines[6][10] = {
	{"Hi, I want to talk about %s.", "I earn about %d euros a month, what should I do about %s?",
		"Could you explain %s in simple terms?", "My partner and I disagree about %s; any advice?",
		"What would you do with %d dollars and %s in mind?", "Thanks, that helps a lot with %s!",
		"I'm worried about %s, honestly.", "Is it too late to start with %s at %d?",
		"Okay, and how does that change %s?", "Great, one more question about %s: is %d too much?"},
	{"Bonjour, je voudrais parler de %s.", "Je gagne %d euros par mois, que faire pour %s ?",
		"Pouvez-vous m'expliquer %s simplement ?", "Mon conjoint et moi hésitons sur %s.",
		"Merci, c'est très clair pour %s !", "J'ai %d ans, est-ce trop tard pour %s ?",
		"Et comment cela change-t-il %s ?", "Je m'inquiète un peu pour %s.",
		"Que feriez-vous avec %d euros pour %s ?", "D'accord, encore une question sur %s."},
	{"Hallo, ich möchte über %s sprechen.", "Ich verdiene %d Euro im Monat, was tun für %s?",
		"Können Sie mir %s einfach erklären?", "Meine Frau und ich streiten über %s.",
		"Danke, das hilft mir bei %s sehr!", "Ich bin %d Jahre alt, ist es zu spät für %s?",
		"Und wie ändert das %s?", "Ich mache mir Sorgen um %s.",
		"Was würden Sie mit %d Euro für %s tun?", "Gut, noch eine Frage zu %s."},
	{"Hola, quiero hablar sobre %s.", "Gano %d euros al mes, ¿qué hago con %s?",
		"¿Puede explicarme %s de forma sencilla?", "Mi pareja y yo dudamos sobre %s.",
		"¡Gracias, eso me ayuda mucho con %s!", "Tengo %d años, ¿es tarde para %s?",
		"¿Y cómo cambia eso %s?", "Me preocupa %s, la verdad.",
		"¿Qué haría usted con %d euros para %s?", "Bien, otra pregunta sobre %s."},
	{"Здравствуйте, хочу обсудить %s.", "Я зарабатываю %d рублей в месяц, что делать с %s?",
		"Объясните, пожалуйста, %s простыми словами.", "Мы с женой спорим про %s.",
		"Спасибо, это очень помогло с %s!", "Мне %d лет, не поздно ли думать про %s?",
		"А как это меняет %s?", "Я немного волнуюсь за %s.",
		"Что бы вы сделали с %d рублями ради %s?", "Хорошо, ещё вопрос про %s."},
	{"你好，我想聊聊%s。", "我每个月赚%d元，%s该怎么办？", "你能简单解释一下%s吗？", "我和爱人对%s有分歧。",
		"谢谢，这对%s很有帮助！", "我%d岁了，现在开始%s晚吗？", "那这会怎样影响%s？", "我有点担心%s。",
		"如果有%d元，你会怎么安排%s？", "好的，关于%s还有一个问题。"},
};

static const char *const assistant_lines[6][14] = {
	{"That is a good question about %s.", "I'm sorry to hear that %s has been stressful.",
		"A common rule is to keep %d percent of your income aside for %s.",
		"First, list every fixed cost, then decide what %s should get.",
		"I can help you compare the options for %s.", "Many people start small, with %d euros a month.",
		"It depends on your goals, your timeline and how you feel about risk.",
		"Let's look at the numbers together, step by step.", "You could also talk to a certified planner about %s.",
		"Interest compounds, so even %d dollars early makes a difference.",
		"Keep an emergency fund of three to six months before anything else.",
		"The fees matter more than most people think, especially for %s.",
		"Write the plan down and review it every %d months.", "You are already on the right track 🙂"},
	{"C'est une bonne question sur %s.", "Je comprends que %s vous inquiète.",
		"Une règle courante est de garder %d pour cent du revenu pour %s.",
		"D'abord, listez les dépenses fixes, puis décidez pour %s.", "Je peux vous aider à comparer les options.",
		"Beaucoup commencent avec %d euros par mois.", "Tout dépend de vos objectifs et de votre horizon.",
		"Regardons les chiffres ensemble, étape par étape.", "Un conseiller agréé peut aussi vous aider pour %s.",
		"Les intérêts se cumulent, donc %d euros tôt font la différence.",
		"Gardez une épargne de précaution de trois à six mois.", "Les frais comptent beaucoup pour %s.",
		"Notez le plan et relisez-le tous les %d mois.", "Vous êtes sur la bonne voie !"},
	{"Das ist eine gute Frage zu %s.", "Ich verstehe, dass %s Sie beschäftigt.",
		"Eine übliche Regel sind %d Prozent des Einkommens für %s.",
		"Listen Sie zuerst alle Fixkosten auf, dann planen Sie %s.", "Ich kann Ihnen helfen, die Optionen zu vergleichen.",
		"Viele beginnen mit %d Euro im Monat.", "Es hängt von Ihren Zielen und Ihrem Zeitrahmen ab.",
		"Schauen wir uns die Zahlen Schritt für Schritt an.", "Ein zertifizierter Berater kann bei %s helfen.",
		"Zinsen wachsen mit, also machen %d Euro früh einen Unterschied.",
		"Halten Sie eine Reserve von drei bis sechs Monaten.", "Die Gebühren sind bei %s wichtig.",
		"Schreiben Sie den Plan auf und prüfen Sie ihn alle %d Monate.", "Sie sind auf einem guten Weg!"},
	{"Es una buena pregunta sobre %s.", "Entiendo que %s le preocupe.",
		"Una regla común es guardar el %d por ciento de los ingresos para %s.",
		"Primero, anote los gastos fijos y luego decida sobre %s.", "Puedo ayudarle a comparar las opciones.",
		"Mucha gente empieza con %d euros al mes.", "Depende de sus objetivos y de su horizonte.",
		"Veamos los números juntos, paso a paso.", "Un asesor certificado también puede ayudar con %s.",
		"El interés se acumula, así que %d euros pronto marcan la diferencia.",
		"Mantenga un fondo de emergencia de tres a seis meses.", "Las comisiones importan mucho en %s.",
		"Escriba el plan y revíselo cada %d meses.", "¡Va por buen camino!"},
	{"Это хороший вопрос про %s.", "Понимаю, что %s вас беспокоит.",
		"Обычно советуют откладывать %d процентов дохода на %s.",
		"Сначала выпишите все расходы, потом решите про %s.", "Я могу помочь сравнить варианты.",
		"Многие начинают с %d рублей в месяц.", "Всё зависит от ваших целей и сроков.",
		"Давайте посмотрим на цифры по шагам.", "Сертифицированный консультант тоже поможет с %s.",
		"Проценты растут, поэтому %d рублей сейчас важны.",
		"Держите резерв на три-шесть месяцев.", "Комиссии важны для %s.",
		"Запишите план и пересматривайте его каждые %d месяцев.", "Вы на верном пути!"},
	{"这是关于%s的好问题。", "我理解%s让你有压力。", "常见的做法是把收入的%d%%留给%s。",
		"先列出固定支出，再决定%s。", "我可以帮你比较这些选项。", "很多人从每月%d元开始。",
		"这取决于你的目标和时间。", "我们一步一步看数字吧。", "你也可以找理财顾问谈谈%s。",
		"利息会复利增长，所以早点投入%d元很有用。", "先准备三到六个月的应急资金。", "费用对%s影响很大。",
		"把计划写下来，每%d个月检查一次。", "你已经走在正确的路上了！"},
};

static const char *const list_items[] = {"rent and utilities", "groceries", "transport", "phone and internet",
	"insurance premiums", "loan repayments", "a small fun budget", "gifts and holidays", "childcare",
"the emergency fund"};

/* Append printf-style text to a turn. */
static void
put(char *dst, const char *fmt, const char *topic, int number)
{
	size_t		len = strlen(dst);
	const char *d = strstr(fmt, "%d"),
			   *s = strstr(fmt, "%s");

	if (d && s && d < s)
		snprintf(dst + len, TURN_BYTES - len, fmt, number, topic);
	else if (d && s)
		snprintf(dst + len, TURN_BYTES - len, fmt, topic, number);
	else if (s)
		snprintf(dst + len, TURN_BYTES - len, fmt, topic);
	else if (d)
		snprintf(dst + len, TURN_BYTES - len, fmt, number);
	else
		snprintf(dst + len, TURN_BYTES - len, "%s", fmt);
}

/* Append raw text to a turn. */
static void
append(char *dst, const char *s)
{
	size_t		len = strlen(dst);

	snprintf(dst + len, TURN_BYTES - len, "%s", s);
}

/* Sentences of a turn, distinct within it. */
static void
fill_turn(conv *c, int t, bool assistant)
{
	int			lang = c->lang,
				count = assistant ? 1 + (int) rnd(6) : 1 + (int) rnd(2),
				pool = assistant ? 14 : 10;
	bool		used[14] = {false};

	c->text[t][0] = '\0';
	for (int k = 0; k < count; k++)
	{
		int			i;

		do
			i = (int) rnd((unsigned) pool);
		while (used[i]);
		used[i] = true;
		if (k > 0)
			append(c->text[t], lang == 5 ? "" : " ");
		put(c->text[t], assistant ? assistant_lines[lang][i] : user_lines[lang][i], PICK(topics[lang]),
			10 + (int) rnd(5000));
	}
	if (assistant && lang == 0 && rnd(6) == 0)	/* a list of distinct items */
	{
		int			first = (int) rnd(6);

		append(c->text[t], "\n\nA simple split:");
		for (int k = 0; k < 3 + (int) rnd(3); k++)
		{
			append(c->text[t], "\n- ");
			append(c->text[t], list_items[first + k]);
		}
		append(c->text[t], "\n\nDoes that look right?");
	}
	if (assistant && lang == 0 && rnd(10) == 0)
		append(c->text[t], "\n\n```python\nmonthly = {'rent': 900, 'food': 300}\nprint(sum(monthly.values()))\n```\n\nThat prints the total.");
}

/* A clean conversation of an even number of turns, user first. */
static void
make_clean(conv *c)
{
	c->lang = rnd(3) == 0 ? (int) rnd(6) : 0;
	c->n = 2 * (1 + (int) rnd(10));
	for (int t = 0; t < c->n; t++)
	{
		bool		repeated;

		strcpy(c->role[t], t % 2 ? "assistant" : "user");
		do						/* a person does not say the very same thing twice */
		{
			fill_turn(c, t, t % 2 == 1);
			repeated = false;
			for (int k = 0; k < t; k++)
				repeated = repeated || strcmp(c->text[k], c->text[t]) == 0;
		} while (repeated);
	}
}

/* --- planting ------------------------------------------------------------- */

/* Insert s into a turn at a random word boundary. */
static void
insert_at_random(char *text, const char *s)
{
	size_t		len = strlen(text),
				at = rnd((unsigned) len + 1);
	char		tail[TURN_BYTES];

	while (at > 0 && at < len && text[at - 1] != ' ')
		at--;
	snprintf(tail, sizeof(tail), "%s", text + at);
	text[at] = '\0';
	append(text, s);
	append(text, " ");
	append(text, tail);
}

/* A random assistant turn. */
static int
some_assistant(const conv *c)
{
	return 1 + 2 * (int) rnd((unsigned) c->n / 2);
}

static void
plant_placeholder(conv *c, td_quality_expect *e)
{
	static const char *const ph[] = {"{{name}}", "{{ persona }}", "{{user.first_name}}", "{{topic}}",
		"{{formal ? 'Sir' : 'friend'}}", "{{ emotion ? 'calm' : 'upset' }}", "{%if vip%}", "{% endif %}",
	"{{Amount}}", "{{customer.city}}"};

	(void) e;
	insert_at_random(c->text[rnd((unsigned) c->n)], PICK(ph));
}

static void
plant_special_token(conv *c, td_quality_expect *e)
{
	static const char *const tok[] = {"<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<think>", "</think>", "</s>",
	"[INST]", "[/INST]", "<|assistant|>", "<<SYS>>"};

	(void) e;
	insert_at_random(c->text[some_assistant(c)], PICK(tok));
}

static void
plant_refusal(conv *c, td_quality_expect *e)
{
	static const char *const ref[] = {
		"I’m sorry, but I can’t help with that.", "I'M SORRY, BUT I CANNOT DO THAT.",
		"As an AI language model, I don't have personal opinions on this.",
		"As an A.I., I do not give financial advice.", "Unfortunately, I cannot provide that information.",
		"I am unable to assist with this request.", "Sorry, but I can not share that.",
		"I must respectfully decline to answer.", "My apologies, but I won’t be able to help here.",
		"As of my last knowledge update in 2023, I can't say.", "I can’t and won’t write that.",
		"I'm not able to provide personalised advice, as I'm just an AI.",
		"It's not appropriate for me to recommend specific stocks.",
		"I’m afraid I can't do that, Dave.", "Being an AI, I don’t have feelings about money.",
		"Lo siento, pero no puedo ayudarte con eso.", "Désolé, mais je ne peux pas répondre à cela.",
		"Als KI-Sprachmodell kann ich das nicht beurteilen.", "作为一个人工智能，我无法给出建议。",
		"Извините, но я не могу помочь с этим.", "This goes against my guidelines, so I will stop.",
	"i apologise, but i cannot continue this conversation.", "OpenAI's policies prevent me from sharing that.",
	"Anthropic’s usage policies do not let me write this."};
	int			t = some_assistant(c);
	char		keep[TURN_BYTES / 2];

	(void) e;
	snprintf(keep, sizeof(keep), "%.4000s", c->text[t]);
	switch (rnd(3))
	{
		case 0:					/* the whole answer */
			snprintf(c->text[t], TURN_BYTES, "%s", PICK(ref));
			break;
		case 1:					/* before the answer */
			snprintf(c->text[t], TURN_BYTES, "%s %s", PICK(ref), keep);
			break;
		default:				/* after it */
			snprintf(c->text[t], TURN_BYTES, "%s %s", keep, PICK(ref));
	}
}

static void
plant_truncated(conv *c, td_quality_expect *e)
{
	char	   *last = c->text[c->n - 1];
	size_t		len = strlen(last),
				cut;

	(void) e;
	if (rnd(8) == 0)			/* a code block that never closes */
	{
		append(last, "\n\n```python\nfor month in range(12):\n    total += save(month)");
		return;
	}
	if (len < 40)				/* too short to cut: give it a longer sentence first */
		append(last, " The next thing to look at is how the account is taxed and");
	len = strlen(last);
	cut = len / 3 + rnd((unsigned) (len / 2));
	while (cut > 0 && ((unsigned char) last[cut] & 0xC0) == 0x80)
		cut--;					/* not inside a character */
	last[cut] = '\0';
	while (cut > 0 && strchr(" .!?。！？\n", last[cut - 1]))	/* a cut at the end of a sentence is no cut */
		last[--cut] = '\0';
	if (rnd(2) == 0)			/* mid-word or after a word, or after a comma */
		append(last, rnd(2) ? "," : " and");
}

static void
plant_empty(conv *c, td_quality_expect *e)
{
	static const char *const blank[] = {"", " ", "   ", "\n", "\t\n  ", "\u00a0", "\u200b", "\u3000 ", " \u2003\u2009",
	"\r\n\r\n", "\ufeff"};

	(void) e;
	snprintf(c->text[rnd((unsigned) c->n)], TURN_BYTES, "%s", PICK(blank));
}

static void
plant_loop(conv *c, td_quality_expect *e)
{
	static const char *const words[] = {"the", "plan", "is", "to", "save", "more", "money", "each", "month", "and",
		"keep", "going", "because", "it", "really", "helps", "you", "over", "time", "with", "your", "budget",
	"goals", "so", "stay", "focused"};
	int			t = some_assistant(c);
	int			unit_words = 3 + (int) rnd(38),
				reps = 3 + (int) rnd(10);
	char		unit[1024] = "";
	const char *sep = PICK(((const char *[]) {" ", "\n", ". ", "\n\n", ", "}));

	(void) e;
	if (rnd(3) == 0)			/* a sentence of the turn itself */
	{
		size_t		n = strcspn(c->text[t], ".!?\n");

		snprintf(unit, sizeof(unit), "%.*s", (int) (n < 600 ? n : 600), c->text[t]);
	}
	else
		for (int k = 0; k < unit_words; k++)
		{
			append(unit, k ? " " : "");
			append(unit, PICK(words));
		}
	if (rnd(2))					/* after some of the answer, or the whole answer */
		append(c->text[t], " ");
	else
		c->text[t][0] = '\0';
	for (int k = 0; k < reps; k++)
	{
		append(c->text[t], unit);
		append(c->text[t], sep);
	}
}

static void
plant_duplicate(conv *c, td_quality_expect *e)
{
	int			from,
				to;

	(void) e;
	if (c->n < 4)				/* room for a copy: two more turns */
	{
		strcpy(c->role[2], "user");
		fill_turn(c, 2, false);
		strcpy(c->role[3], "assistant");
		fill_turn(c, 3, true);
		c->n = 4;
		if (e->max_turns)
			e->min_turns = 0, e->max_turns = 0;
	}
	from = (int) rnd((unsigned) c->n - 2);
	to = from + 2 + 2 * (int) rnd((unsigned) (c->n - from - 2 + 1) / 2);
	if (to >= c->n)
		to = from + 2;
	memcpy(c->text[to], c->text[from], TURN_BYTES);
	if (rnd(2))
		append(c->text[to], " ");
	if (rnd(3) == 0)			/* and shouted */
		for (char *p = c->text[to]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char) (*p - 32);
}

static void
plant_role_order(conv *c, td_quality_expect *e)
{
	int			t = (int) rnd((unsigned) c->n);

	(void) e;
	switch (rnd(5))
	{
		case 0:					/* two adjacent turns swapped */
			if (t + 1 >= c->n)
				t = c->n - 2;
			strcpy(c->role[t], t % 2 ? "user" : "assistant");
			strcpy(c->role[t + 1], t % 2 ? "assistant" : "user");
			break;
		case 1:					/* an unknown role */
			strcpy(c->role[t], PICK(((const char *[]) {"bot", "human", "model", "gpt", "Customer", ""})));
			break;
		case 2:					/* the assistant speaks first */
			for (int k = 0; k < c->n; k++)
				strcpy(c->role[k], k % 2 ? "user" : "assistant");
			break;
		case 3:					/* the user speaks last: an answer missing */
			if (c->n >= 4)
				c->n--;
			else
			{
				strcpy(c->role[c->n], "user");
				fill_turn(c, c->n, false);
				c->n++;
			}
			break;
		default:				/* one role twice */
			strcpy(c->role[t], t > 0 ? c->role[t - 1] : c->role[1]);
	}
}

static void
plant_one_sided(conv *c, td_quality_expect *e)
{
	const char *role = rnd(2) ? "user" : "assistant";

	(void) e;
	for (int k = 0; k < c->n; k++)
		strcpy(c->role[k], role);
}

static void
plant_too_few(conv *c, td_quality_expect *e)
{
	c->n = (int) rnd(2);
	e->min_turns = e->max_turns = 0;	/* the template's count is not the point here */
}

static void
plant_length(conv *c, td_quality_expect *e)
{
	long		n = c->n;

	if (n >= 4 && rnd(2))
		e->min_turns = n * 3, e->max_turns = n * 6;	/* the template asked for 3x more */
	else
		e->min_turns = (n + 5) / 6 > 0 ? (n + 5) / 6 : 1, e->max_turns = (n - 1) / 3 > 0 ? (n - 1) / 3 : 1;
	if (e->min_turns > e->max_turns)
		e->min_turns = e->max_turns;
}

typedef struct kind
{
	td_defect	defect;
	void		(*plant) (conv *c, td_quality_expect *e);
} kind;

static const kind kinds[] = {
	{TD_DEFECT_LEAKED_PLACEHOLDER, plant_placeholder},
	{TD_DEFECT_SPECIAL_TOKEN, plant_special_token},
	{TD_DEFECT_REFUSAL, plant_refusal},
	{TD_DEFECT_TRUNCATED_LAST_TURN, plant_truncated},
	{TD_DEFECT_EMPTY_TURN, plant_empty},
	{TD_DEFECT_LOOPING_TURN, plant_loop},
	{TD_DEFECT_DUPLICATE_TURNS, plant_duplicate},
	{TD_DEFECT_ROLE_ORDER, plant_role_order},
	{TD_DEFECT_ONE_SIDED, plant_one_sided},
	{TD_DEFECT_TOO_FEW_TURNS, plant_too_few},
	{TD_DEFECT_LENGTH_MISMATCH, plant_length},
};

#define NKINDS ((int) (sizeof(kinds) / sizeof(kinds[0])))

/* The verdicts of a conversation under an expectation. */
static td_defect_mask
judge(const conv *c, const td_quality_expect *e)
{
	td_qturn	t[MAX_TURNS];

	for (int k = 0; k < c->n; k++)
	{
		t[k].role = c->role[k];
		t[k].role_len = strlen(c->role[k]);
		t[k].content = c->text[k];
		t[k].len = strlen(c->text[k]);
		t[k].has_timestamp = false;
		td_qturn_survey(&t[k]);	/* as the server reads turns */
	}
	return td_quality_defects(t, c->n, true, e, NULL);
}

/* Print the defects of a mask and their details (to show a miss or a false alarm). */
static void
show(const char *what, const conv *c, td_defect_mask mask, const td_quality_expect *e)
{
	td_qturn	t[MAX_TURNS];
	td_buf		out;

	for (int k = 0; k < c->n; k++)
	{
		t[k] = (td_qturn) {.role = c->role[k], .role_len = strlen(c->role[k]), .content = c->text[k],
		.len = strlen(c->text[k])};
		td_qturn_survey(&t[k]);	/* as the server reads turns */
	}
	td_buf_init(&out);
	(void) td_quality_defects(t, c->n, true, e, &out);
	printf("# %s:", what);
	for (int d = 0; d < TD_DEFECT_COUNT; d++)
		if (mask & (1u << d))
			printf(" %s", td_defect_code((td_defect) d));
	printf("\n# %s\n", out.data);
	td_buf_free(&out);
	for (int k = 0; k < c->n; k++)
		printf("#   %s: %.300s\n", c->role[k], c->text[k]);
}

int
main(void)
{
	static conv clean,
				copy;
	int			caught[NKINDS] = {0},
				total = 0,
				caught_all = 0,
				false_alarms = 0,
				shown_fa = 0,
				shown_miss[NKINDS] = {0};

	for (int i = 0; i < CONVERSATIONS; i++)
	{
		td_quality_expect expect = {0, 0, NULL};
		td_defect_mask m;

		make_clean(&clean);
		if (rnd(2))				/* the template's count, as a template would give it */
		{
			expect.min_turns = (clean.n + 1) / 2;
			expect.max_turns = clean.n * 2;
		}
		m = judge(&clean, &expect);
		if (m)
		{
			false_alarms++;
			if (shown_fa++ < 5)
				show("false alarm", &clean, m, &expect);
		}
		for (int k = 0; k < NKINDS; k++)
		{
			td_quality_expect e = expect;

			copy = clean;
			kinds[k].plant(&copy, &e);
			m = judge(&copy, &e);
			if (m & (1u << kinds[k].defect))
				caught[k]++;
			else if (shown_miss[k]++ < 3)
				show(td_defect_code(kinds[k].defect), &copy, m, &e);
		}
	}
	printf("# %-20s %8s %8s\n", "defect", "caught", "of");
	for (int k = 0; k < NKINDS; k++)
	{
		printf("# %-20s %8d %8d  %5.1f %%\n", td_defect_code(kinds[k].defect), caught[k], CONVERSATIONS,
			   100.0 * caught[k] / CONVERSATIONS);
		caught_all += caught[k];
		total += CONVERSATIONS;
		ok(caught[k] * 100 >= 80 * CONVERSATIONS, td_defect_code(kinds[k].defect));
	}
	printf("# all: %d of %d caught (%.1f %%); false alarms on clean conversations: %d of %d (%.1f %%)\n",
		   caught_all, total, 100.0 * caught_all / total, false_alarms, CONVERSATIONS,
		   100.0 * false_alarms / CONVERSATIONS);
	ok(caught_all * 100 >= 95 * total, "at least 95 % of planted defects caught");
	ok(false_alarms * 100 <= 5 * CONVERSATIONS, "at most 5 % of clean conversations flagged");
	return unit_done();
}
