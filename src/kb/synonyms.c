/*
 * The word lists of knowledge-base search: the stop words dropped from
 * queries, and our table of synonyms and abbreviations.
 *
 * Both are written in plain words; words.c stems them with the index's own
 * term stream at kb_open, so "passwords" in a query meets "password" here.
 *
 * Synonym entries: "a|b|c" is a set whose forms all expand to each other;
 * "a|b > c|d" expands a and b to c and d only (a narrower word to a broader
 * one: "chrome > browser", never "browser > chrome"). A form of several words
 * is searched as a phrase. A word may appear in several entries.
 *
 * The table was written for customer-support vocabulary (accounts, billing,
 * connections, product usage), not taken from any evaluation set.
 */
#include <stddef.h>

#include "kb_int.h"

/*
 * Function words, and the politeness and question scaffolding of a support
 * request ("hi, I was wondering how I can ..."). Dropped from queries only:
 * the index keeps every word, so phrases such as "sign in" still match.
 */
const char *const kb__stop_words[] = {
	"a", "about", "after", "again", "also", "am", "an", "and", "any", "anybody", "anyone",
	"anything", "anyway", "are", "as", "at", "be", "because", "been", "being", "but", "by",
	"can", "cannot", "could", "dear", "did", "do", "does", "doing", "done", "each", "either",
	"else", "even", "ever", "for", "from", "get", "gets", "getting", "got", "had", "has",
	"have", "having", "he", "hello", "her", "here", "hers", "hey", "hi", "him", "his", "how",
	"i", "i'd", "i'll", "i'm", "i've", "id", "if", "im", "in", "into", "is", "it", "it's",
	"its", "just", "kind", "let", "like", "may", "me", "might", "mine", "much", "must", "my",
	"myself", "of", "on", "or", "our", "ours", "please", "possible", "possibly", "regards",
	"really", "she", "should", "so", "some", "somehow", "such", "than", "thank", "thanks",
	"that", "that's", "the", "their", "theirs", "them", "then", "there", "there's", "these",
	"they", "this", "those", "to", "too", "us", "very", "want", "wanted", "wants", "was",
	"way", "ways", "we", "were", "what", "what's", "whats", "when", "where", "whether",
	"which", "while", "who", "whom", "why", "will", "with", "wonder", "wondering", "would",
	"you", "you're", "your", "yours", "yourself",
	/* contractions and chat filler: no topic, and in no article's wording (negations stay: "doesn't work") */
	"he's", "lol", "ok", "okay", "pls", "plz", "she's", "they're", "they've", "thx", "ugh", "we'd", "we'll",
	"we're", "we've", "you'd", "you'll", "you've",
	NULL,
};

const char *const kb__synonym_sets[] = {
	/* account and access */
	"password|pwd|pw|passwd|passcode|pass word",
	"login|log in|logon|log on|sign in|signin|sign on",
	"logout|log out|log off|sign out|signout",
	"signup|sign up|register|registration|create an account|open an account",
	"2fa|two-factor|two factor|2-factor|mfa|multi-factor|multifactor|two-step|2-step|2sv",
	"authenticator|authentication app|otp app|verification app",
	"otp|one-time password|one time password|one-time code|verification code|security code",
	"username|user name|user id|userid|login name",
	"email|e-mail|mail",
	"email address|e-mail address|mail address",
	"account|acc|acct",
	"locked out|lockout|locked|blocked account",
	"forgot|forgotten|lost|can't remember|cannot remember",
	"reset|recover|recovery|restore",
	"verify|verification|confirm|confirmation|validate",
	"profile|account details|personal details|personal information",
	"preferences|options|configuration|config",
	"permission|permissions|access rights|privileges|role",
	"admin|administrator|account owner",
	"team|workspace|organization|organisation|org|company account",
	"invite|invitation|add a user|add user|add member|add a member",
	"teammate|colleague|coworker|co-worker|team member",
	"sso|single sign-on|single sign on|saml",
	"delete|remove|erase|get rid of",
	"deactivate|disable|turn off|switch off",
	"activate|enable|turn on|switch on",
	"hacked|compromised|breached|unauthorized access|unauthorised access|suspicious activity",
	"change|update|modify|edit",
	/* billing */
	"refund|money back|reimbursement|reimburse|repayment",
	"chargeback|dispute|disputed charge",
	"invoice|bill|receipt|statement",
	"charge|charged|billed|payment",
	"overcharged|double charged|charged twice|duplicate charge|billed twice|extra charge",
	"subscription|plan|membership",
	"cancel|unsubscribe|terminate|stop subscription|end subscription",
	"upgrade|higher plan|change plan|switch plan",
	"downgrade|lower plan|change plan|switch plan",
	"credit card|debit card|card|payment method|payment details",
	"declined|rejected|refused|failed payment|payment failed|card declined|did not go through",
	"american express|amex",
	"price|pricing|cost|fee|rate",
	"discount|coupon|promo code|promo|voucher|promotion code",
	"tax|vat|gst|sales tax",
	"trial|free trial|evaluation period",
	"renew|renewal|auto-renew|autorenew|recurring|automatic renewal",
	"billing cycle|billing period|billing date|renewal date",
	"pre-authorization|preauthorization|authorization hold|pending charge|temporary hold",
	/* technical */
	"error|problem|issue|bug|fault|glitch|failure",
	"crash|crashes|freeze|freezes|hang|hangs|not responding|stops responding",
	"slow|lag|laggy|sluggish|takes forever|performance",
	"connection|connectivity|network|internet|wifi|wi-fi",
	"can't connect|cannot connect|unable to connect|no connection|connection failed|disconnects",
	"outage|downtime|service down|unavailable|not loading|won't load",
	"chrome|firefox|safari|edge|opera > browser",
	"cache|cookies|browsing data|browser data|site data",
	"vpn|virtual private network",
	"proxy|proxy server",
	"firewall|antivirus|security software",
	"api|application programming interface",
	"api key|access token|token|secret key",
	"401|unauthorized|unauthorised|authentication error|auth error",
	"403|forbidden|access denied",
	"404|not found|page not found",
	"500|server error|internal error",
	"timeout|timed out|time out",
	"rate limit|429|too many requests|throttled|throttling",
	"url|web address|link",
	"website|site|web page|webpage|web site",
	"app|application",
	"mobile app|phone app|ios app|android app",
	"iphone|ipad|ios > mobile|phone",
	"android > mobile|phone",
	"computer|pc|laptop|desktop|machine",
	"install|installation|setup|set up",
	"uninstall|reinstall|remove the app",
	"sync|synchronize|synchronise|synchronization|synchronisation",
	"notification|notifications|alert|alerts|notify",
	"import|upload",
	"download|export",
	"backup|back up|save a copy",
	"folder|directory",
	"attachment|attached file",
	"picture|photo|image|pic|screenshot",
	"dark mode|dark theme|night mode",
	"integration|integrations|plugin|plug-in|add-on|addon|extension|connector",
	"webhook|callback url",
	"dashboard|home screen|overview",
	"analytics|report|reports|reporting|statistics|stats|metrics|insights",
	"automation|automate|workflow|rule|rules",
	"collaborate|collaboration|work together|teamwork|shared workspace",
	"share|sharing|send to",
	"feature request|suggestion|idea|feedback",
	"multiple|several|more than one|many",
	"contact|get in touch|reach|talk to|speak to|communicate",
	"customer support|customer service|support team|helpdesk|help desk",
	"human|agent|representative|real person",
	"hide|conceal|make private",
	"private|privacy",
	"secure|security|safe|safety",
	"encrypt|encryption|encrypted",
	"penetration test|penetration testing|pentest|pen test",
	"macos|mac os|mac",
	"reactivate|re-activate|turn it back on|turn back on|re-enable|reenable",
	"display name|screen name|name people see",
	"spam|junk",
	"first|oldest|earliest",
	"latest|newest|most recent",
	"os|operating system",
	"pdf|portable document",
	"data|information|info",
	"fix|solve|resolve|troubleshoot|repair",
	NULL,
};
