//! The ramdisk file `exec`: the Linux programs to run, one after another,
//! with their arguments and environment. The runner writes it
//! (`cargo run -p boot -- --exec 'PATH ARG...' --env NAME=VALUE`) and the
//! pager reads it.
//!
//! The format is a magic, then fields of one tag byte, the field's bytes
//! and a NUL. NUL is the one byte an argument or variable cannot hold (as
//! in `execve`), so arguments may contain spaces, quotes or newlines, and
//! an empty argument is an empty field.
//!
//! ```text
//! EXEC1 \0                      magic
//! P bin/hello \0                a program: its file in the ramdisk
//! A bin/hello \0  A -v \0       its argv, argv[0] first
//! E HOME=/ \0                   its envp, in order
//! P bin/other \0 ...            the next program
//! ```

use alloc::{string::String, vec::Vec};

/// The first bytes of the file; the digit is the format's version.
pub const MAGIC: &[u8] = b"EXEC1\0";

const TAG_PATH: u8 = b'P';
const TAG_ARG: u8 = b'A';
const TAG_ENV: u8 = b'E';

/// One program to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecSpec {
    /// Its file in the ramdisk (e.g. `bin/hello`).
    pub path: String,
    /// Its arguments, `argv[0]` first.
    pub argv: Vec<String>,
    /// Its environment, `NAME=VALUE` each.
    pub envp: Vec<String>,
}

/// Why an exec list was refused; offsets are byte offsets into the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecListError {
    /// The file does not start with [`MAGIC`] (wrong file or version).
    BadMagic,
    /// The field at `offset` has no terminating NUL: the file was cut.
    Truncated { offset: usize },
    /// The field at `offset` has a tag other than `P`, `A` or `E`.
    UnknownTag { offset: usize, tag: u8 },
    /// An argument or variable at `offset` comes before any program.
    FieldBeforePath { offset: usize },
    /// The program at `offset` names no file.
    EmptyPath { offset: usize },
    /// The field at `offset` is not UTF-8.
    NotUtf8 { offset: usize },
    /// The variable at `offset` has no `=`.
    EnvWithoutEquals { offset: usize },
    /// Encoding: a string holds a NUL, which the format cannot carry.
    ContainsNul,
}

impl core::fmt::Display for ExecListError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ExecListError::BadMagic => write!(f, "the exec list does not start with EXEC1 and a NUL"),
            ExecListError::Truncated { offset } => write!(f, "the exec list field at byte {offset} has no final NUL"),
            ExecListError::UnknownTag { offset, tag } => {
                write!(f, "the exec list field at byte {offset} has unknown tag {tag:#04x}")
            }
            ExecListError::FieldBeforePath { offset } => {
                write!(f, "the exec list field at byte {offset} comes before any program")
            }
            ExecListError::EmptyPath { offset } => write!(f, "the exec list program at byte {offset} has no path"),
            ExecListError::NotUtf8 { offset } => write!(f, "the exec list field at byte {offset} is not UTF-8"),
            ExecListError::EnvWithoutEquals { offset } => {
                write!(f, "the exec list variable at byte {offset} has no `=`")
            }
            ExecListError::ContainsNul => write!(f, "a path, argument or variable contains a NUL byte"),
        }
    }
}

impl core::error::Error for ExecListError {}

/// Reads an exec list. An empty list (the magic alone) is valid.
pub fn parse(bytes: &[u8]) -> Result<Vec<ExecSpec>, ExecListError> {
    let mut rest = bytes.strip_prefix(MAGIC).ok_or(ExecListError::BadMagic)?;
    let mut offset = MAGIC.len();
    let mut specs: Vec<ExecSpec> = Vec::new();
    while let Some((&tag, body)) = rest.split_first() {
        if ![TAG_PATH, TAG_ARG, TAG_ENV].contains(&tag) {
            return Err(ExecListError::UnknownTag { offset, tag });
        }
        let len = body
            .iter()
            .position(|&b| b == 0)
            .ok_or(ExecListError::Truncated { offset })?;
        let text = core::str::from_utf8(&body[..len]).map_err(|_| ExecListError::NotUtf8 { offset })?;
        match tag {
            TAG_PATH if text.is_empty() => return Err(ExecListError::EmptyPath { offset }),
            TAG_PATH => specs.push(ExecSpec {
                path: text.into(),
                argv: Vec::new(),
                envp: Vec::new(),
            }),
            _ => {
                let spec = specs.last_mut().ok_or(ExecListError::FieldBeforePath { offset })?;
                if tag == TAG_ARG {
                    spec.argv.push(text.into());
                } else if text.contains('=') {
                    spec.envp.push(text.into());
                } else {
                    return Err(ExecListError::EnvWithoutEquals { offset });
                }
            }
        }
        rest = &body[len + 1..];
        offset += len + 2;
    }
    Ok(specs)
}

/// Writes an exec list that [`parse`] reads back as `specs`.
pub fn encode(specs: &[ExecSpec]) -> Result<Vec<u8>, ExecListError> {
    let mut out = Vec::from(MAGIC);
    for spec in specs {
        if spec.path.is_empty() {
            return Err(ExecListError::EmptyPath { offset: out.len() });
        }
        let fields = core::iter::once((TAG_PATH, &spec.path))
            .chain(spec.argv.iter().map(|a| (TAG_ARG, a)))
            .chain(spec.envp.iter().map(|e| (TAG_ENV, e)));
        for (tag, text) in fields {
            if text.contains('\0') {
                return Err(ExecListError::ContainsNul);
            }
            if tag == TAG_ENV && !text.contains('=') {
                return Err(ExecListError::EnvWithoutEquals { offset: out.len() });
            }
            out.push(tag);
            out.extend_from_slice(text.as_bytes());
            out.push(0);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;

    fn spec(path: &str, argv: &[&str], envp: &[&str]) -> ExecSpec {
        ExecSpec {
            path: path.into(),
            argv: argv.iter().map(|&s| s.into()).collect(),
            envp: envp.iter().map(|&s| s.into()).collect(),
        }
    }

    #[test]
    fn reads_programs_in_order_with_spaces_and_empty_arguments() {
        let bytes = b"EXEC1\0Pbin/a\0Abin/a\0Aone two\0A\0EHOME=/\0E=odd\0Pbin/b\0";
        assert_eq!(
            parse(bytes),
            Ok(vec![
                spec("bin/a", &["bin/a", "one two", ""], &["HOME=/", "=odd"]),
                spec("bin/b", &[], &[]),
            ])
        );
    }

    #[test]
    fn the_magic_alone_is_an_empty_list() {
        assert_eq!(parse(MAGIC), Ok(vec![]));
    }

    #[test]
    fn malformed_lists_are_refused_with_the_offset() {
        use ExecListError::*;
        for (bytes, err) in [
            (&b""[..], BadMagic),
            (b"EXEC2\0Pa\0", BadMagic),
            (b"EXEC1", BadMagic),
            (b"EXEC1\0Pbin/a", Truncated { offset: 6 }),
            (b"EXEC1\0Pbin/a\0Aarg", Truncated { offset: 13 }),
            (b"EXEC1\0P", Truncated { offset: 6 }),
            (b"EXEC1\0Pa\0Xb\0", UnknownTag { offset: 9, tag: b'X' }),
            (b"EXEC1\0Pa\0X", UnknownTag { offset: 9, tag: b'X' }),
            (b"EXEC1\0\0", UnknownTag { offset: 6, tag: 0 }),
            (b"EXEC1\0Aa\0", FieldBeforePath { offset: 6 }),
            (b"EXEC1\0EA=1\0", FieldBeforePath { offset: 6 }),
            (b"EXEC1\0P\0", EmptyPath { offset: 6 }),
            (b"EXEC1\0Pa\0A\xff\0", NotUtf8 { offset: 9 }),
            (b"EXEC1\0Pa\0EHOME\0", EnvWithoutEquals { offset: 9 }),
        ] {
            assert_eq!(parse(bytes), Err(err.clone()), "{bytes:?}");
            assert!(!alloc::format!("{err}").is_empty());
        }
    }

    #[test]
    fn encoding_refuses_what_the_format_cannot_carry() {
        assert_eq!(encode(&[spec("a\0b", &[], &[])]), Err(ExecListError::ContainsNul));
        assert_eq!(encode(&[spec("a", &["x\0"], &[])]), Err(ExecListError::ContainsNul));
        assert_eq!(
            encode(&[spec("", &[], &[])]),
            Err(ExecListError::EmptyPath { offset: 6 })
        );
        assert_eq!(
            encode(&[spec("a", &[], &["NAME"])]),
            Err(ExecListError::EnvWithoutEquals { offset: 9 })
        );
    }

    fn field() -> impl Strategy<Value = String> {
        "[^\0]{0,12}"
    }

    proptest! {
        #[test]
        fn encode_then_parse_is_the_identity(
            specs in proptest::collection::vec(
                ("[^\0]{1,12}", proptest::collection::vec(field(), 0..4),
                 proptest::collection::vec(("[^\0=]{0,6}", field()), 0..4)),
                0..4,
            )
        ) {
            let specs: Vec<ExecSpec> = specs
                .into_iter()
                .map(|(path, argv, env)| ExecSpec {
                    path,
                    argv,
                    envp: env.into_iter().map(|(n, v)| alloc::format!("{n}={v}")).collect(),
                })
                .collect();
            prop_assert_eq!(parse(&encode(&specs).unwrap()), Ok(specs));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut input = Vec::from(MAGIC);
            input.extend(bytes);
            let _ = parse(&input);
        }
    }
}
