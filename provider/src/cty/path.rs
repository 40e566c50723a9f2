//! Attribute paths (`device["eth0"].type`, `file[0]`), used to locate diagnostics and to
//! list the attributes whose change forces replacement.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Step {
    Attr(String),
    Key(String),
    Index(i64),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AttrPath(pub Vec<Step>);

impl AttrPath {
    pub fn root() -> Self {
        AttrPath(Vec::new())
    }
    pub fn attr(name: &str) -> Self {
        AttrPath(vec![Step::Attr(name.to_string())])
    }
    pub fn then_attr(&self, name: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Step::Attr(name.to_string()));
        p
    }
    pub fn then_key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Step::Key(key.to_string()));
        p
    }
    pub fn then_index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Step::Index(i as i64));
        p
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            match s {
                Step::Attr(a) if i == 0 => write!(f, "{a}")?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Key(k) => write!(f, "[{k:?}]")?,
                Step::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_hcl() {
        let p = AttrPath::attr("device")
            .then_index(0)
            .then_attr("properties")
            .then_key("listen");
        assert_eq!(p.to_string(), r#"device[0].properties["listen"]"#);
    }
}
