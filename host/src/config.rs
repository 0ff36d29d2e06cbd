//! `--config FILE`: options from a TOML file, for a service whose command line would be long.
//!
//! The file holds the same options as the command line, by the same names, so there is no
//! second list to keep in step with it: each key is a long option without its `--` (`_` may
//! stand for `-`), or the name of a positional argument (`port`), and is looked up in the
//! clap [`Command`] itself. An option added to the command is a key of the file from then on,
//! with its own value parser, range checks and help.
//!
//! How it works: the command line is parsed once to find `--config` (in whichever subcommand
//! has it); each key of the file is then checked and turned into the argument it stands for,
//! and those arguments are put before the user's own, so the whole is parsed by clap as if it
//! had been typed. Options given on the command line win: a key whose option (or an option
//! it conflicts with, such as `--simulate` against a configured `port`) was given on the
//! command line is left out. Each value is checked by the option's own value parser before
//! that, so a bad value or an unknown key is an error naming the file, the line and the key,
//! not a command-line error about an argument nobody typed.
//!
//! Values: strings, integers and floats as the command line spells them; `true` for a flag
//! (`false` leaves it off); arrays for options that may be repeated. Tables are refused: the
//! file is flat, as the command line is.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command};
use toml_edit::{Item, Value};

/// The id of the argument that names the config file.
pub const CONFIG_ARG: &str = "config";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config file {}:{line}: {what}", path.display())]
    Syntax { path: PathBuf, line: usize, what: String },
    #[error("config file {}:{line}: `{key}`: {what}", path.display())]
    Key { path: PathBuf, line: usize, key: String, what: String },
}

/// `args` (the program name first) with the options of the config file it names added, as
/// clap is to parse them, and the file; `args` unchanged when there is no config file, or when
/// they do not parse (clap then reports that, or shows the help asked for).
pub fn with_config(cmd: &Command, args: Vec<OsString>) -> Result<(Vec<OsString>, Option<PathBuf>), ConfigError> {
    let Ok(matches) = cmd.clone().try_get_matches_from(&args) else {
        return Ok((args, None));
    };
    let (sub, sub_matches, sub_name) = match matches.subcommand() {
        Some((name, m)) => match cmd.find_subcommand(name) {
            Some(sub) => (sub, m, Some(name)),
            None => return Ok((args, None)),
        },
        None => (cmd, &matches, None),
    };
    if !sub.get_arguments().any(|a| a.get_id() == CONFIG_ARG) {
        return Ok((args, None));
    }
    let Some(path) = sub_matches.get_raw(CONFIG_ARG).and_then(|mut v| v.next()).map(PathBuf::from) else {
        return Ok((args, None));
    };
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
    let from_file = config_args(sub, sub_matches, &path, &text)?;

    // The program name (and the subcommand's name), the file's arguments, then the user's.
    let split = match sub_name {
        Some(name) => 1 + args.iter().skip(1).position(|a| a == name).map_or(0, |p| p + 1),
        None => 1,
    };
    let mut merged: Vec<OsString> = args[..split.min(args.len())].to_vec();
    merged.extend(from_file);
    merged.extend(args.into_iter().skip(split));
    Ok((merged, Some(path)))
}

/// The arguments the file's keys stand for, leaving out those the command line overrides.
fn config_args(cmd: &Command, given: &ArgMatches, path: &Path, text: &str) -> Result<Vec<OsString>, ConfigError> {
    let line_of = |offset: Option<std::ops::Range<usize>>| {
        offset.map_or(1, |r| text[..r.start.min(text.len())].matches('\n').count() + 1)
    };
    let doc = toml_edit::Document::parse(text).map_err(|e| ConfigError::Syntax {
        path: path.to_owned(),
        line: line_of(e.span()),
        what: first_line(e.message()),
    })?;
    let on_command_line = |a: &Arg| given.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine);

    let mut options = Vec::new();
    let mut positionals = Vec::new();
    for (name, _) in doc.iter() {
        let (key, item) = doc.get_key_value(name).expect("a key of the table");
        let line = line_of(key.span().or_else(|| item.span()));
        let err = |what: String| ConfigError::Key { path: path.to_owned(), line, key: name.to_owned(), what };
        let arg = find_arg(cmd, name).ok_or_else(|| {
            err(format!(
                "not an option of {}{} (keys are the long options without `--`; see --help)",
                cmd.get_name(),
                if name == CONFIG_ARG { " in a config file" } else { "" }
            ))
        })?;
        let conflicts = |a: &Arg, b: &Arg| cmd.get_arg_conflicts_with(a).iter().any(|c| c.get_id() == b.get_id());
        let overridden = cmd
            .get_arguments()
            .filter(|g| on_command_line(g))
            .any(|g| g.get_id() == arg.get_id() || conflicts(g, arg) || conflicts(arg, g));
        if overridden {
            continue;
        }
        let value = match item {
            Item::Value(v) => v,
            _ => return Err(err("a table; the file holds options only, `key = value`".into())),
        };
        if !arg.get_action().takes_values() {
            match (value, arg.get_action()) {
                (Value::Boolean(b), ArgAction::SetTrue) => {
                    if *b.value() {
                        options.push(OsString::from(format!("--{}", long(arg))));
                    }
                }
                _ => return Err(err("a flag: `true` or `false`".into())),
            }
            continue;
        }
        let values = match value {
            Value::Array(a) if matches!(arg.get_action(), ArgAction::Append) => a.iter().collect(),
            Value::Array(_) => return Err(err("takes one value, not a list".into())),
            v => vec![v],
        };
        for v in values {
            let text = scalar(v).ok_or_else(|| err("must be a string or a number".into()))?;
            check_value(arg, &text).map_err(err)?;
            if arg.is_positional() {
                positionals.push(OsString::from(text));
            } else {
                options.push(OsString::from(format!("--{}={text}", long(arg))));
            }
        }
    }
    options.extend(positionals);
    Ok(options)
}

/// The argument a key names: its long option or an alias of it (`_` for `-` too), or a
/// positional argument's name. Help, version and the config file itself are not keys.
fn find_arg<'a>(cmd: &'a Command, key: &str) -> Option<&'a Arg> {
    let key = key.replace('_', "-");
    cmd.get_arguments().find(|a| {
        let id = a.get_id().as_str();
        if id == CONFIG_ARG || matches!(a.get_action(), ArgAction::Help | ArgAction::Version) {
            return false;
        }
        match a.get_long_and_visible_aliases() {
            Some(longs) => longs.contains(&key.as_str()),
            None => a.is_positional() && id.replace('_', "-") == key,
        }
    })
}

fn long(arg: &Arg) -> &str {
    arg.get_long().expect("options have a long name")
}

/// A string or a number as the command line would spell it.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.value().clone()),
        Value::Integer(i) => Some(i.value().to_string()),
        Value::Float(f) => Some(f.value().to_string()),
        _ => None,
    }
}

/// Checks `text` with the argument's own value parser, by parsing it alone in a command that
/// holds a copy of the argument without its relations to others (requires, conflicts).
fn check_value(arg: &Arg, text: &str) -> Result<(), String> {
    let mut probe = Arg::new(arg.get_id().clone())
        .value_parser(arg.get_value_parser().clone())
        .action(ArgAction::Set)
        .allow_hyphen_values(true);
    if let Some(names) = arg.get_value_names() {
        probe = probe.value_names(names.to_vec());
    }
    let argv = if arg.is_positional() {
        vec![OsString::from(text)]
    } else {
        probe = probe.long(long(arg).to_owned());
        vec![OsString::from(format!("--{}={text}", long(arg)))]
    };
    Command::new("config")
        .no_binary_name(true)
        .disable_help_flag(true)
        .arg(probe)
        .try_get_matches_from(argv)
        .map(drop)
        .map_err(|e| {
            let msg = e.to_string();
            let first = first_line(&msg);
            first.strip_prefix("error: ").unwrap_or(&first).to_owned()
        })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, CommandFactory, Parser, Subcommand};

    #[derive(Parser, Debug)]
    #[command(name = "meter", args_conflicts_with_subcommands = true)]
    struct Cli {
        #[command(subcommand)]
        cmd: Option<Sub>,
        #[command(flatten)]
        live: Live,
    }

    #[derive(Subcommand, Debug)]
    enum Sub {
        Record {
            #[arg(long)]
            output: PathBuf,
            #[command(flatten)]
            live: Live,
        },
        Other {
            #[arg(long)]
            n: u32,
        },
    }

    #[derive(Args, Debug, Default)]
    struct Live {
        port: Option<String>,
        #[arg(long, conflicts_with = "port")]
        simulate: bool,
        #[arg(long, default_value_t = 9600, value_parser = clap::value_parser!(u32).range(50..=1_000_000))]
        baud: u32,
        #[arg(long, default_value_t = 230.0)]
        volts: f64,
        #[arg(long, requires = "mqtt")]
        mqtt_emon: bool,
        #[arg(long)]
        mqtt: Option<String>,
        #[arg(long, visible_alias = "mqtt-node")]
        node: Option<String>,
        #[arg(long = "point")]
        points: Vec<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("meter.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn parse(args: &[&str]) -> Result<Cli, ConfigError> {
        let (args, file) = with_config(&Cli::command(), args.iter().map(OsString::from).collect())?;
        assert!(file.is_some());
        Ok(Cli::try_parse_from(args).unwrap())
    }

    #[test]
    fn the_file_gives_options_and_the_command_line_wins() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "# a comment\nport = \"/dev/ttyACM0\"\nbaud = 115200\nvolts = 240.5\nmqtt = \"mqtt://h\"\nmqtt_emon = \
             true\nmqtt-node = \"kitchen\"\npoint = [\"a=1\", \"b=2\"]\n",
        );
        let c = cfg.to_str().unwrap();
        let cli = parse(&["meter", "--config", c]).unwrap();
        let l = &cli.live;
        assert_eq!(l.port.as_deref(), Some("/dev/ttyACM0"));
        assert_eq!((l.baud, l.volts, l.mqtt_emon), (115200, 240.5, true));
        assert_eq!(l.mqtt.as_deref(), Some("mqtt://h"));
        assert_eq!(l.node.as_deref(), Some("kitchen"));
        assert_eq!(l.points, ["a=1", "b=2"]);

        // Given on the command line: the file's value is left out, whichever spelling.
        let cli = parse(&["meter", "--baud", "9600", "--config", c, "--node=garage", "/dev/ttyUSB1"]).unwrap();
        assert_eq!(cli.live.baud, 9600);
        assert_eq!(cli.live.node.as_deref(), Some("garage"));
        assert_eq!(cli.live.port.as_deref(), Some("/dev/ttyUSB1"));
        assert_eq!(cli.live.volts, 240.5, "the others still come from the file");
        // --simulate conflicts with the file's port: the command line wins.
        let cli = parse(&["meter", "--config", c, "--simulate"]).unwrap();
        assert!(cli.live.simulate && cli.live.port.is_none());

        // A subcommand that has --config reads it too.
        let cli = parse(&["meter", "record", "--output", "x.cap", "--config", c]).unwrap();
        match cli.cmd {
            Some(Sub::Record { output, live }) => {
                assert_eq!(output, PathBuf::from("x.cap"));
                assert_eq!((live.baud, live.port.as_deref()), (115200, Some("/dev/ttyACM0")));
            }
            other => panic!("{other:?}"),
        }
        // Without --config, nothing changes.
        let args: Vec<OsString> = ["meter", "--baud", "300"].iter().map(OsString::from).collect();
        assert_eq!(with_config(&Cli::command(), args.clone()).unwrap(), (args, None));
        let args: Vec<OsString> = ["meter", "other", "--n", "3"].iter().map(OsString::from).collect();
        assert_eq!(with_config(&Cli::command(), args.clone()).unwrap(), (args, None));
    }

    /// Every mistake names the file, the line and the key, and is told by its kind.
    #[test]
    fn mistakes_name_the_file_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases: [(&str, usize, Option<&str>, &str); 9] = [
            ("volts = 230\nbuad = 9600\n", 2, Some("buad"), "not an option of meter"),
            ("\n\nbaud = 10\n", 3, Some("baud"), "10 is not in 50..=1000000"),
            ("volts = \"lots\"\n", 1, Some("volts"), "invalid value 'lots' for '--volts"),
            ("simulate = \"yes\"\n", 1, Some("simulate"), "a flag: `true` or `false`"),
            ("baud = [9600, 300]\n", 1, Some("baud"), "takes one value, not a list"),
            ("baud = 9600\n[mqtt]\nhost = \"x\"\n", 2, Some("mqtt"), "a table"),
            ("config = \"other.toml\"\n", 1, Some("config"), "not an option of meter in a config file"),
            ("help = true\n", 1, Some("help"), "not an option"),
            ("volts = 230\nbaud = \n", 2, None, ""),
        ];
        for (text, line, key, what) in cases {
            let cfg = write(dir.path(), text);
            let e = parse(&["meter", "--config", cfg.to_str().unwrap()]).unwrap_err();
            let shown = e.to_string();
            assert!(shown.starts_with(&format!("config file {}:{line}: ", cfg.display())), "{text:?}: {shown}");
            match (&e, key) {
                (ConfigError::Key { line: l, key: k, what: w, .. }, Some(key)) => {
                    assert_eq!((*l, k.as_str()), (line, key), "{text:?}: {shown}");
                    assert!(w.contains(what), "{text:?}: {shown}");
                }
                (ConfigError::Syntax { line: l, .. }, None) => assert_eq!(*l, line, "{shown}"),
                _ => panic!("{text:?}: {e:?}"),
            }
        }
        let e = parse(&["meter", "--config", dir.path().join("missing.toml").to_str().unwrap()]).unwrap_err();
        assert!(matches!(&e, ConfigError::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound));
    }
}
