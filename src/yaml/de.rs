//! serde over the spanned tree. Models derive `Deserialize` with `deny_unknown_fields`; every
//! error is pinned to the innermost node that produced it (an unknown key to the key itself,
//! a missing key to its map), and unknown keys and enum values get a "did you mean".

use std::fmt;

use serde::de::{
    self, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess, VariantAccess,
    Visitor,
};

use super::node::{MapEntry, Node, Resolved, Span, Value};
use crate::suggest;

#[derive(Debug, Clone, PartialEq)]
pub struct DeError {
    pub message: String,
    pub expected: Option<String>,
    pub help: Option<String>,
    pub span: Option<Span>,
}

impl DeError {
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }
    fn msg(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            expected: None,
            help: None,
            span: None,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::msg(msg.to_string())
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            de::Unexpected::Str(s) => format!("the string \"{s}\""),
            de::Unexpected::Unsigned(v) => format!("the integer {v}"),
            de::Unexpected::Signed(v) => format!("the integer {v}"),
            de::Unexpected::Float(v) => format!("the number {v}"),
            de::Unexpected::Bool(v) => format!("the boolean {v}"),
            de::Unexpected::Map => "a map".to_string(),
            de::Unexpected::Seq => "a list".to_string(),
            de::Unexpected::Unit | de::Unexpected::Option => "nothing (null)".to_string(),
            other => other.to_string(),
        };
        let mut e = Self::msg(format!("wrong type: found {found}"));
        e.expected = Some(plain_expected(&exp.to_string()));
        e
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        let mut e = Self::msg(format!("invalid value {unexp}"));
        e.expected = Some(exp.to_string());
        e
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Self::msg(format!("unknown key `{field}`"));
        e.expected = Some(format!("one of {}", suggest::one_of(expected)));
        e.help = suggest::did_you_mean(field, expected.iter().copied());
        e
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = Self::msg(format!("unknown value `{variant}`"));
        e.expected = Some(suggest::one_of(expected));
        e.help = suggest::did_you_mean(variant, expected.iter().copied());
        e
    }

    fn missing_field(field: &'static str) -> Self {
        Self::msg(format!("missing required key `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::msg(format!("key `{field}` is given twice"))
    }
}

/// serde names Rust types ("u32", "a sequence"); say it in the config's words.
fn plain_expected(exp: &str) -> String {
    match exp {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number of 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" => "a string".into(),
        "a sequence" => "a list".into(),
        "a map" => "a map".into(),
        e if e.starts_with("struct ") => "a map".into(),
        e if e.starts_with("enum ") => "one of the allowed values".into(),
        e => e.to_string(),
    }
}

/// Deserialize a typed model from a node.
pub fn from_node<'de, T: de::Deserialize<'de>>(node: &'de Node) -> Result<T, DeError> {
    T::deserialize(node).map_err(|e| e.at(node.span))
}

impl<'de> de::Deserializer<'de> for &'de Node {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match &self.value {
            Value::Scalar(s) => match s.resolve() {
                Resolved::Null => v.visit_unit(),
                Resolved::Bool(b) => v.visit_bool(b),
                Resolved::Int(i) => v.visit_i64(i),
                Resolved::Float(f) if is_integer_text(&s.text) => big_integer(&s.text, f, v),
                Resolved::Float(f) => v.visit_f64(f),
                Resolved::Str(t) => v.visit_borrowed_str(t),
            },
            Value::Seq(items) => v.visit_seq(Seq { it: items.iter() }),
            Value::Map(entries) => v.visit_map(Map {
                it: entries.iter(),
                value: None,
            }),
        };
        r.map_err(|e| e.at(self.span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.is_null() {
            v.visit_none()
        } else {
            v.visit_some(self)
        }
        .map_err(|e| e.at(self.span))
    }

    /// Any scalar reads as a string (`version: 1.0` is the version "1.0").
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        match &self.value {
            Value::Scalar(s) if !(s.plain && s.resolve() == Resolved::Null) => v
                .visit_borrowed_str(&s.text)
                .map_err(|e: DeError| e.at(self.span)),
            _ => self.deserialize_any(v),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_str(v)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_any(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_newtype_struct(self).map_err(|e| e.at(self.span))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match &self.value {
            Value::Scalar(s) => v.visit_enum(s.text.as_str().into_deserializer()),
            Value::Map(entries) if entries.len() == 1 => v.visit_enum(Enum { entry: &entries[0] }),
            _ => Err(de::Error::invalid_type(
                match &self.value {
                    Value::Seq(_) => de::Unexpected::Seq,
                    _ => de::Unexpected::Map,
                },
                &"a name, or a map with one key",
            )),
        };
        r.map_err(|e| e.at(self.span))
    }

    /// A struct is a map: a list is refused, never read by position (`link: [1, 2]` is not
    /// delay 1, jitter 2).
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        if let Value::Seq(_) = self.value {
            let e: DeError = de::Error::invalid_type(de::Unexpected::Seq, &"a map");
            return Err(e.at(self.span));
        }
        self.deserialize_any(v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char bytes byte_buf
        unit_struct seq tuple tuple_struct map ignored_any
    }
}

/// A plain decimal integer (one too large for i64 resolves as a float).
fn is_integer_text(t: &str) -> bool {
    let d = t.strip_prefix(['-', '+']).unwrap_or(t);
    !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
}

/// An integer beyond i64: exact when it fits u64, else a float whose messages quote the
/// integer as written, not its rounded float (99999999999999999999 is not 1e20).
fn big_integer<'de, V: Visitor<'de>>(text: &str, f: f64, v: V) -> Result<V::Value, DeError> {
    if let Ok(u) = text.parse::<u64>() {
        return v.visit_u64(u);
    }
    v.visit_f64(f).map_err(|mut e: DeError| {
        if e.message.starts_with("wrong type: found the number") {
            e.message = format!("wrong type: found the integer {text}, which is too large");
        }
        e
    })
}

struct Seq<'de> {
    it: std::slice::Iter<'de, Node>,
}

impl<'de> SeqAccess<'de> for Seq<'de> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.it.next() {
            Some(n) => seed.deserialize(n).map(Some).map_err(|e| e.at(n.span)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Map<'de> {
    it: std::slice::Iter<'de, MapEntry>,
    value: Option<&'de Node>,
}

/// A map key as a deserializer: a string with the key's own span for errors.
struct Key<'de> {
    text: &'de str,
    span: Span,
}

impl<'de> de::Deserializer<'de> for Key<'de> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_borrowed_str(self.text)
            .map_err(|e: DeError| e.at(self.span))
    }
    /// Enum-typed keys (`run: {server: …}`) name a variant.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        v.visit_enum(de::value::BorrowedStrDeserializer::<DeError>::new(
            self.text,
        ))
        .map_err(|e: DeError| e.at(self.span))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option
        unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl<'de> MapAccess<'de> for Map<'de> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.it.next() {
            Some(e) => {
                self.value = Some(&e.value);
                seed.deserialize(Key {
                    text: &e.key,
                    span: e.key_span,
                })
                .map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, DeError> {
        let n = self.value.take().expect("value after key");
        seed.deserialize(n).map_err(|e| e.at(n.span))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.it.len())
    }
}

struct Enum<'de> {
    entry: &'de MapEntry,
}

impl<'de> EnumAccess<'de> for Enum<'de> {
    type Error = DeError;
    type Variant = &'de Node;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, &'de Node), DeError> {
        let key = Key {
            text: &self.entry.key,
            span: self.entry.key_span,
        };
        Ok((seed.deserialize(key)?, &self.entry.value))
    }
}

impl<'de> VariantAccess<'de> for &'de Node {
    type Error = DeError;
    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _f: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, v)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Limits, parse};
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Svc {
        name: String,
        port: u16,
        #[serde(default)]
        role: Option<Role>,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Role {
        Server,
        Client,
    }

    fn de(y: &str) -> Result<Vec<Svc>, DeError> {
        let n = parse(y, Limits::default()).unwrap();
        from_node(&n)
    }

    #[test]
    fn unknown_key_points_at_key_with_suggestion() {
        let e = de("- name: a\n  port: 1\n- name: b\n  prot: 2\n").unwrap_err();
        assert_eq!(e.span, Some(Span::new(4, 3)));
        assert_eq!(e.message, "unknown key `prot`");
        assert_eq!(e.help.as_deref(), Some("did you mean `port`?"));
    }

    #[test]
    fn wrong_type_points_at_value() {
        let e = de("- name: a\n  port: seventy\n").unwrap_err();
        assert_eq!(e.span, Some(Span::new(2, 9)));
        assert!(
            e.message.contains("the string \"seventy\""),
            "{}",
            e.message
        );
        assert_eq!(e.expected.as_deref(), Some("a whole number of 0 or more"));
    }

    #[test]
    fn bad_enum_value_suggests() {
        let e = de("- name: a\n  port: 1\n  role: sever\n").unwrap_err();
        assert_eq!(e.span, Some(Span::new(3, 9)));
        assert_eq!(e.help.as_deref(), Some("did you mean `server`?"));
    }

    #[test]
    fn missing_key_points_at_map() {
        let e = de("- name: a\n").unwrap_err();
        assert_eq!(e.span, Some(Span::new(1, 3)));
        assert_eq!(e.message, "missing required key `port`");
    }

    #[test]
    fn plain_number_reads_as_string_when_asked() {
        let v = de("- name: 1.0\n  port: 80\n").unwrap();
        assert_eq!(v[0].name, "1.0");
    }
}
