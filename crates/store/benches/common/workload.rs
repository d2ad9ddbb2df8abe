//! The store benchmark's workload, shared by every store measured (the
//! SQLCipher baseline includes this file too), so all three see the same data
//! and the same queries.

/// The history sizes measured, in one run: a long history, and ten years
/// of a busy one.
pub const SIZES: [usize; 2] = [100_000, 1_000_000];
/// Conversations they are spread over.
pub const CONVERSATIONS: usize = 200;
/// Messages per insert transaction.
pub const BATCH: usize = 1_000;
/// Conversation opens (latest 50) measured.
pub const OPENS: usize = 1_000;
/// Search queries measured.
pub const QUERIES: usize = 1_000;

/// A deterministic xorshift generator: the same data on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One generated message.
pub struct GenMessage {
    pub conversation: usize,
    pub body: String,
    pub sent_at: i64,
    pub bank_id: String,
}

const SYLLABLES: &[&str] = &[
    "ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "qui", "ra", "se",
    "ti", "vo", "wu", "xa", "ze", "bri", "cla", "dro", "fle", "gra", "plo", "tré", "stu", "vin",
    "mon",
];

/// A vocabulary of pseudo-words (some with accents), used with a skewed
/// frequency like real text.
pub fn vocabulary() -> Vec<String> {
    let mut rng = Rng::new(0xC0FFEE);
    let mut words: Vec<String> = (0..4_000)
        .map(|_| {
            let n = 2 + rng.below(3);
            (0..n)
                .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
                .collect()
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

fn pick<'a>(rng: &mut Rng, words: &'a [String]) -> &'a str {
    // Squaring a uniform draw favours the first words: a few are common,
    // most are rare.
    let u = rng.below(1 << 16) as u64;
    let skewed = (u * u) >> 16; // still below 2^16, but mostly small
    let index = (skewed as usize * words.len()) >> 16;
    &words[index.min(words.len() - 1)]
}

/// `n` messages, 50 to 500 bytes each, in time order (the first 100,000
/// are the same whatever `n`).
pub fn messages(n: usize) -> Vec<GenMessage> {
    let words = vocabulary();
    let mut rng = Rng::new(42);
    (0..n)
        .map(|i| {
            let target = 50 + rng.below(451);
            let mut body = String::with_capacity(target + 16);
            while body.len() < target {
                if !body.is_empty() {
                    body.push(' ');
                }
                body.push_str(pick(&mut rng, &words));
            }
            // Trim on a character boundary to stay within 500 bytes.
            while body.len() > 500 {
                body.pop();
            }
            GenMessage {
                conversation: rng.below(CONVERSATIONS),
                body,
                sent_at: 1_700_000_000_000 + i as i64 * 1_000,
                bank_id: format!("bank-msg-{i}"),
            }
        })
        .collect()
}

/// The search queries: two thirds whole words, one third 3-letter prefixes.
pub fn queries() -> Vec<String> {
    let words = vocabulary();
    let mut rng = Rng::new(7);
    (0..QUERIES)
        .map(|i| {
            let w = pick(&mut rng, &words);
            if i % 3 == 2 {
                w.chars().take(3).collect()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// The conversations opened, in order.
pub fn opens() -> Vec<usize> {
    let mut rng = Rng::new(99);
    (0..OPENS).map(|_| rng.below(CONVERSATIONS)).collect()
}

/// The p-th percentile (0..=100) of durations in milliseconds.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank]
}

/// What one store measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Figures {
    pub insert_per_s: f64,
    pub latest50_p50_ms: f64,
    pub search_p50_ms: f64,
    pub search_p99_ms: f64,
}

impl Figures {
    pub fn to_line(self) -> String {
        format!(
            "{} {} {} {}",
            self.insert_per_s, self.latest50_p50_ms, self.search_p50_ms, self.search_p99_ms
        )
    }

    pub fn from_line(line: &str) -> Option<Self> {
        let mut v = line.split_whitespace().map(|s| s.parse::<f64>().ok());
        Some(Figures {
            insert_per_s: v.next()??,
            latest50_p50_ms: v.next()??,
            search_p50_ms: v.next()??,
            search_p99_ms: v.next()??,
        })
    }
}
