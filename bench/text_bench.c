/*
 * text_bench: speed of the text module on ticket-like texts: tokenizing,
 * category prediction, and the whole sentiment analysis (sentiment model +
 * emotion model + cue rules), single-threaded. Prints a Markdown section for
 * docs/BENCHMARKS.md. Usage: text_bench [MODELS_DIR] (default data/models).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "text/text.h"
#include "util/util.h"

static const char *const texts[] = {
	"Unable to access my account - password reset not working. I requested the reset email three times and it never arrives. This is urgent, I need it for work today!",
	"Hi, I have a question about the billing cycle: when exactly will I be charged for the annual plan, and can I get an invoice?",
	"We are getting 401 authentication errors from the API since this morning for all requests, our integration is down.",
	"Would it be possible to add a dark mode to the dashboard? Many of us work late and it would be really nice.",
	"CRITICAL: Complete system outage affecting all users!!! Nobody in the company can log in, we are losing money every minute.",
	"Thanks a lot for the quick help yesterday, everything works perfectly now :)",
	"I was charged twice for order #A123456 and the refund has not shown up after 10 days.",
	"How do I export my reports to CSV? I can't find the option anywhere in the new interface.",
};

#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

/* CPU time of this thread in microseconds: rates per CPU-second hold on a
 * machine shared with other work, where wall-clock rates do not. */
static int64_t cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double run_tokenize(size_t iters)
{
	struct text_tokens t = TEXT_TOKENS_INIT;
	int64_t t0 = cpu_us();
	size_t i, n = 0;

	for (i = 0; i < iters; i++) {
		const char *s = texts[i % NTEXTS];

		text_tokens_reset(&t);
		text_tokenize(s, strlen(s), &t);
		n += t.n;
	}
	text_tokens_release(&t);
	(void)n;
	return (double)iters / ((double)(cpu_us() - t0) / 1e6);
}

static double run_predict(const struct text_model *m, size_t iters)
{
	double probs[128];
	int64_t t0 = cpu_us();
	size_t i;

	for (i = 0; i < iters; i++)
		text_model_predict(m, texts[i % NTEXTS], probs);
	return (double)iters / ((double)(cpu_us() - t0) / 1e6);
}

static double run_sentiment(const struct text_sentiment *s, size_t iters)
{
	int64_t t0 = cpu_us();
	size_t i;

	for (i = 0; i < iters; i++)
		json_decref(text_sentiment_analyze(s, texts[i % NTEXTS], NULL));
	return (double)iters / ((double)(cpu_us() - t0) / 1e6);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "data/models";
	char *cat = fl_asprintf("%s/category.model", dir), *emo = fl_asprintf("%s/emotion.model", dir);
	struct text_model *mc = NULL, *me = NULL;
	struct text_sentiment *s = NULL;
	char *err = NULL;

	if (text_model_load(cat, &mc, &err) || text_model_load(emo, &me, &err) ||
	    text_sentiment_open(dir, &s, &err)) {
		fprintf(stderr, "text_bench: %s\n", err);
		return 1;
	}
	run_predict(mc, 2000); /* warm up */
	printf("## Text analysis (src/text)\n\n");
	printf("One thread, %zu ticket-like texts of 70-170 characters in rotation; rates per CPU-second\n"
	       "of the measuring thread (CLOCK_THREAD_CPUTIME_ID).\n\n", NTEXTS);
	printf("| operation | per CPU-second |\n|---|---:|\n");
	printf("| tokenize (normalise + cues) | %.0f |\n", run_tokenize(200000));
	printf("| category prediction (5 labels) | %.0f |\n", run_predict(mc, 100000));
	printf("| emotion prediction (28 labels) | %.0f |\n", run_predict(me, 50000));
	printf("| sentiment analysis (sentiment + emotion models + cues) | %.0f |\n", run_sentiment(s, 30000));
	{
		/* shared machines: say how busy this one was */
		FILE *f = fopen("/proc/loadavg", "r");
		double load;

		if (f && fscanf(f, "%lf", &load) == 1)
			printf("\nLoad average (1 min) when measured: %.2f.\n", load);
		if (f)
			fclose(f);
	}
	text_sentiment_free(s);
	text_model_free(mc);
	text_model_free(me);
	free(cat);
	free(emo);
	return 0;
}
