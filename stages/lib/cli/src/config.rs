//! Presets as data: `--config FILE` reads the stage's section of a TOML
//! preset (`[train]`, `[predict]`, ...; keys are the stage's long flag
//! names, values strings, numbers, booleans or arrays), plus the entries of
//! `[common]` that name a flag the stage has. Flags given on the command
//! line override single entries; everything else keeps the file's value,
//! then the flag's default. `--print-config` prints the resolved
//! configuration (every flag of the stage with the value it would run with)
//! as a TOML section and exits: the pipeline's reuse stamps are that text.
//! A flag given twice on the command line takes its last value, so that
//! wrappers can put overrides after a default.
//! The file format is documented in data-schemas/presets.md.

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::path::Path;

use clap::error::ErrorKind;
use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, Parser};
use toml::{Table, Value};

/// The flag naming the preset file.
pub const CONFIG: &str = "config";
/// The flag printing the resolved configuration.
pub const PRINT: &str = "print-config";
/// The section whose entries apply to every stage that has the flag.
pub const COMMON: &str = "common";

/// Parses the process's flags for the stage reading `[section]`; prints
/// the resolved configuration and exits with `--print-config`; on a bad
/// flag or preset prints clap's error and exits with 2.
pub fn parse<A: Parser>(section: &str) -> A {
    match parse_from::<A>(section, std::env::args_os()) {
        Ok(Some(a)) => a,
        Ok(None) => std::process::exit(0),
        Err(e) => e.exit(),
    }
}

/// [`parse`] over `argv` (program name first); `Ok(None)` when the
/// configuration was printed.
pub fn parse_from<A: Parser>(
    section: &str,
    argv: impl IntoIterator<Item = impl Into<OsString>>,
) -> Result<Option<A>, clap::Error> {
    let argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let print = argv
        .iter()
        .skip(1)
        .any(|a| a == OsStr::new("--print-config"));
    let mut cmd = command::<A>(print);
    let mut full = argv[..1.min(argv.len())].to_vec();
    if let Some(file) = config_file(&argv) {
        let table = read(Path::new(&file), section).map_err(|m| raw(&mut cmd, m))?;
        let given = given_ids(&cmd, &argv[1..]);
        let entries = flags_of(&cmd, &table, section, &file.to_string_lossy(), &given)
            .map_err(|m| raw(&mut cmd, m))?;
        full.extend(entries.into_iter().map(OsString::from));
    }
    full.extend(argv.into_iter().skip(1));
    let matches = cmd.try_get_matches_from_mut(full)?;
    if print {
        print!("{}", resolved(&cmd, &matches, section));
        return Ok(None);
    }
    A::from_arg_matches(&matches)
        .map(Some)
        .map_err(|e| e.format(&mut cmd))
}

/// The stage's command with `--config` and `--print-config` (with nothing
/// required when only printing).
fn command<A: CommandFactory>(print: bool) -> Command {
    let cmd = A::command()
        .args_override_self(true)
        .arg(
            Arg::new(CONFIG)
                .long(CONFIG)
                .value_name("FILE")
                .help("Read this stage's flags from its section of a preset file (presets/*.toml); flags given here override single entries"),
        )
        .arg(
            Arg::new(PRINT)
                .long(PRINT)
                .action(ArgAction::SetTrue)
                .help("Print the resolved configuration (every flag with the value it would run with) and exit"),
        );
    if print {
        // Nothing is required to print (required_unless_present included).
        cmd.mut_args(|a| a.required(false)).ignore_errors(true)
    } else {
        cmd
    }
}

fn raw(cmd: &mut Command, m: String) -> clap::Error {
    clap::Error::raw(ErrorKind::InvalidValue, format!("{m}\n")).format(cmd)
}

/// The value of `--config FILE` / `--config=FILE` (the last one given).
fn config_file(argv: &[OsString]) -> Option<OsString> {
    let mut out = None;
    let mut it = argv.iter().skip(1);
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        } else if s == "--config" {
            out = it.next().cloned();
        } else if let Some(v) = s.strip_prefix("--config=") {
            out = Some(OsString::from(v));
        }
    }
    out
}

/// The `[section]` table of `file` merged over its `[common]` table
/// (section entries win; common entries are marked by their origin).
fn read(file: &Path, section: &str) -> Result<Vec<(String, Value, bool)>, String> {
    let name = file.display();
    let text = std::fs::read_to_string(file).map_err(|e| format!("--config {name}: {e}"))?;
    let table: Table = text.parse().map_err(|e: toml::de::Error| {
        format!("--config {name}: not a valid TOML file: {}", e.message())
    })?;
    let part = |s: &str| -> Result<Table, String> {
        match table.get(s) {
            None => Ok(Table::new()),
            Some(Value::Table(t)) => Ok(t.clone()),
            Some(_) => Err(format!(
                "--config {name}: [{s}] must be a table of flag = value entries"
            )),
        }
    };
    let (common, own) = (part(COMMON)?, part(section)?);
    let mut out: Vec<(String, Value, bool)> = common
        .into_iter()
        .filter(|(k, _)| !own.contains_key(k))
        .map(|(k, v)| (k, v, true))
        .collect();
    out.extend(own.into_iter().map(|(k, v)| (k, v, false)));
    Ok(out)
}

/// The ids of the arguments given on the command line `args`.
fn given_ids(cmd: &Command, args: &[OsString]) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for a in args {
        let s = a.to_string_lossy();
        if s == "--" {
            break;
        }
        let hit = if let Some(long) = s.strip_prefix("--") {
            let long = long.split('=').next().unwrap_or_default();
            cmd.get_arguments().find(|x| x.get_long() == Some(long))
        } else if let Some(short) = s.strip_prefix('-').and_then(|r| r.chars().next()) {
            cmd.get_arguments().find(|x| x.get_short() == Some(short))
        } else {
            None
        };
        if let Some(x) = hit {
            ids.insert(x.get_id().to_string());
        }
    }
    ids
}

/// The command-line words of the file's entries the command line does not
/// override, as `--flag=value` (or `--flag` for switches).
fn flags_of(
    cmd: &Command,
    entries: &[(String, Value, bool)],
    section: &str,
    file: &str,
    given: &BTreeSet<String>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for (key, value, common) in entries {
        let Some(arg) = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()))
        else {
            if *common {
                continue;
            }
            let known: Vec<&str> = cmd
                .get_arguments()
                .filter_map(Arg::get_long)
                .filter(|l| ![CONFIG, PRINT, "help", "version"].contains(l))
                .collect();
            return Err(format!(
                "--config {file}: [{section}] {key}: not a flag of this stage; expected one of {}",
                known.join(", ")
            ));
        };
        if given.contains(arg.get_id().as_str()) || key == CONFIG || key == PRINT {
            continue;
        }
        let bad = |what: &str| format!("--config {file}: [{section}] {key} = {value}: {what}");
        match arg.get_action() {
            ArgAction::SetTrue | ArgAction::SetFalse => match value {
                Value::Boolean(b) => {
                    if *b == matches!(arg.get_action(), ArgAction::SetTrue) {
                        out.push(format!("--{key}"));
                    }
                }
                _ => return Err(bad("expected true or false")),
            },
            ArgAction::Append => match value {
                Value::Array(items) => {
                    for v in items {
                        out.push(format!(
                            "--{key}={}",
                            scalar(v).ok_or_else(|| bad("expected strings or numbers"))?
                        ));
                    }
                }
                v => out.push(format!(
                    "--{key}={}",
                    scalar(v).ok_or_else(|| bad("expected a value or an array"))?
                )),
            },
            _ => {
                let text = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(scalar)
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.join(","))
                        .ok_or_else(|| bad("expected an array of strings or numbers"))?,
                    v => scalar(v).ok_or_else(|| bad("expected a string, number or boolean"))?,
                };
                out.push(format!("--{key}={text}"));
            }
        }
    }
    Ok(out)
}

/// A scalar entry as command-line text.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Every flag of the stage with the value it resolved to, as `[section]`.
fn resolved(cmd: &Command, m: &ArgMatches, section: &str) -> String {
    let mut t = Table::new();
    for a in cmd.get_arguments() {
        let (Some(long), id) = (a.get_long(), a.get_id().as_str()) else {
            continue;
        };
        if [CONFIG, PRINT, "help", "version"].contains(&long) {
            continue;
        }
        let Ok(Some(raw)) = m.try_get_raw(id) else {
            continue;
        };
        let vals: Vec<String> = raw.map(|v| v.to_string_lossy().into_owned()).collect();
        let v = match (a.get_action(), vals.as_slice()) {
            (ArgAction::SetTrue | ArgAction::SetFalse, [one])
                if one == "true" || one == "false" =>
            {
                Value::Boolean(one == "true")
            }
            (ArgAction::Append, _) => Value::Array(vals.into_iter().map(Value::String).collect()),
            (_, [one]) => Value::String(one.clone()),
            _ => Value::Array(vals.into_iter().map(Value::String).collect()),
        };
        t.insert(long.to_string(), v);
    }
    let mut root = Table::new();
    root.insert(section.to_string(), Value::Table(t));
    toml::to_string(&root).unwrap_or_default()
}

#[cfg(test)]
mod tests;
