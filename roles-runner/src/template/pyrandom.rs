//! The `random` filter, with `seed=` giving the numbers Python's `random.Random(seed)` gives:
//! roles rely on that (`{{ 59 | random(seed=inventory_hostname) }}` for a cron minute must be
//! the same minute Ansible picked, or the cron file changes on every switch of tool).
//! Python's generator is the Mersenne Twister MT19937 (its published reference algorithm),
//! seeded with `init_by_array` from the seed's 32-bit words; a `str` seed is first turned
//! into the integer `seed_bytes + sha512(seed_bytes)` (CPython's version-2 seeding).
//! `randrange`/`choice` draw with `_randbelow` (rejection sampling on `getrandbits(k)`).

use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, ErrorKind};
use sha2::{Digest, Sha512};

const N: usize = 624;
const M: usize = 397;

pub struct Mt {
    state: [u32; N],
    index: usize,
}

impl Mt {
    fn init_genrand(s: u32) -> Mt {
        let mut state = [0u32; N];
        state[0] = s;
        for i in 1..N {
            state[i] = 1812433253u32
                .wrapping_mul(state[i - 1] ^ (state[i - 1] >> 30))
                .wrapping_add(i as u32);
        }
        Mt { state, index: N }
    }

    fn init_by_array(key: &[u32]) -> Mt {
        let mut mt = Mt::init_genrand(19650218);
        let s = &mut mt.state;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(key.len()) {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1664525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            s[i] = (s[i] ^ (s[i - 1] ^ (s[i - 1] >> 30)).wrapping_mul(1566083941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                s[0] = s[N - 1];
                i = 1;
            }
        }
        s[0] = 0x8000_0000;
        mt
    }

    /// `random.Random(seed)` for an int seed (its absolute value's 32-bit words).
    pub fn from_int(seed: i128) -> Mt {
        let mut n = seed.unsigned_abs();
        let mut key = vec![];
        while n > 0 {
            key.push(n as u32);
            n >>= 32;
        }
        if key.is_empty() {
            key.push(0);
        }
        Mt::init_by_array(&key)
    }

    /// `random.Random(seed)` for a str seed.
    pub fn from_str(seed: &str) -> Mt {
        let mut bytes = seed.as_bytes().to_vec();
        bytes.extend_from_slice(&Sha512::digest(seed.as_bytes()));
        // The big-endian integer of `bytes`, as little-endian 32-bit words.
        let mut key = vec![];
        let mut chunk_end = bytes.len();
        while chunk_end > 0 {
            let start = chunk_end.saturating_sub(4);
            let mut w = 0u32;
            for b in &bytes[start..chunk_end] {
                w = (w << 8) | u32::from(*b);
            }
            key.push(w);
            chunk_end = start;
        }
        while key.len() > 1 && key.last() == Some(&0) {
            key.pop();
        }
        Mt::init_by_array(&key)
    }

    fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for k in 0..N {
                let y = (self.state[k] & 0x8000_0000) | (self.state[(k + 1) % N] & 0x7fff_ffff);
                let mut v = self.state[(k + M) % N] ^ (y >> 1);
                if y & 1 != 0 {
                    v ^= 0x9908_b0df;
                }
                self.state[k] = v;
            }
            self.index = 0;
        }
        let mut y = self.state[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^= y >> 18;
        y
    }

    /// `getrandbits(k)` for 1 <= k <= 64 (words filled from the low end, as CPython).
    fn getrandbits(&mut self, k: u32) -> u64 {
        if k <= 32 {
            return u64::from(self.next_u32() >> (32 - k));
        }
        let low = u64::from(self.next_u32());
        let high = u64::from(self.next_u32() >> (64 - k));
        (high << 32) | low
    }

    /// `_randbelow(n)`, n >= 1.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        let k = 64 - n.leading_zeros();
        loop {
            let r = self.getrandbits(k);
            if r < n {
                return r;
            }
        }
    }
}

fn err(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, msg.into())
}

/// Ansible's `random` filter: `end | random(start=0, step=1, seed=None)` for an int,
/// `list | random(seed=None)` picks one element.
pub fn random_filter(end: Value, kwargs: Kwargs) -> Result<Value, Error> {
    let start: Option<i64> = kwargs.get("start")?;
    let step: Option<i64> = kwargs.get("step")?;
    let seed: Option<Value> = kwargs.get("seed")?;
    kwargs.assert_all_used()?;
    let mut rng = match &seed {
        Some(s) if s.kind() == ValueKind::Number => {
            let n = i128::try_from(s.clone())
                .map_err(|_| err("random: seed must be an integer or a string"))?;
            Mt::from_int(n)
        }
        Some(s) if !s.is_none() => Mt::from_str(&s.to_string()),
        // No seed: Python's SystemRandom; any good random source will do.
        _ => {
            let b = uuid::Uuid::new_v4();
            let words: Vec<u32> = b
                .as_bytes()
                .chunks(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            Mt::init_by_array(&words)
        }
    };
    if end.kind() == ValueKind::Number {
        let stop = i64::try_from(end)
            .map_err(|_| err("random can only be used on sequences and integers"))?;
        let start = start.filter(|s| *s != 0).unwrap_or(0);
        let step = step.filter(|s| *s != 0).unwrap_or(1);
        let width = stop - start;
        let n = if step == 1 {
            width
        } else if step > 0 {
            (width + step - 1).div_euclid(step)
        } else {
            (width + step + 1).div_euclid(step)
        };
        if n <= 0 {
            return Err(err(format!(
                "empty range for randrange({start}, {stop}, {step})"
            )));
        }
        return Ok(Value::from(start + step * rng.randbelow(n as u64) as i64));
    }
    if start.is_some_and(|s| s != 0) || step.is_some_and(|s| s != 0) {
        return Err(err("start and step can only be used with integer values"));
    }
    let items: Vec<Value> = end
        .try_iter()
        .map_err(|_| err("random can only be used on sequences and integers"))?
        .collect();
    if items.is_empty() {
        return Err(err("Cannot choose from an empty sequence"));
    }
    let i = rng.randbelow(items.len() as u64) as usize;
    Ok(items[i].clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Draws compared with CPython 3.11 (`random.Random(seed).randrange(...)`/`choice`),
    /// computed by the testbed's python3 in the same test.
    #[test]
    fn same_numbers_as_python() {
        let script = "import random\n\
            for s in ['web1', 'cf-host-1', '', 'ünï']:\n\
            \x20   r = random.Random(s); print(r.randrange(0, 60), r.randrange(0, 1000000), r.randrange(5, 100, 7), r.choice(['a','b','c']), r.randrange(0, 2**40))\n\
            for s in [0, 42, 2**40 + 3, -7]:\n\
            \x20   r = random.Random(s); print(r.randrange(0, 60), r.randrange(0, 1000000), r.randrange(5, 100, 7), r.choice(['a','b','c']), r.randrange(0, 2**40))\n";
        let out = std::process::Command::new("python3")
            .args(["-c", script])
            .output()
            .expect("python3 is part of the testbed (needed to check against Python's random)");
        assert!(out.status.success());
        let want = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut got = String::new();
        let draw = |mut r: Mt, got: &mut String| {
            let a = r.randbelow(60);
            let b = r.randbelow(1_000_000);
            let c = 5 + 7 * r.randbelow(14);
            let d = ["a", "b", "c"][r.randbelow(3) as usize];
            let e = r.randbelow(1 << 40);
            got.push_str(&format!("{a} {b} {c} {d} {e}\n"));
        };
        for s in ["web1", "cf-host-1", "", "ünï"] {
            draw(Mt::from_str(s), &mut got);
        }
        for s in [0i128, 42, (1 << 40) + 3, -7] {
            draw(Mt::from_int(s), &mut got);
        }
        assert_eq!(got, want);
    }
}
