//! Who a program runs as: the pager launches every program, so it assigns
//! each an identity from the command line (`run=name@user:level:privs`) and
//! answers the procfs server's questions about it.
//!
//! `user` is `user` (rid 1000, the default), `alice` (1001), `bob` (1002),
//! `admin` (500) or a number; `level` is `low`, `medium` (default), `high`
//! or `system`; `privs` holds `t` (SeTcbPrivilege) and `d`
//! (SeDebugPrivilege).

use alloc::string::String;

use libipc::procfs::Identity;

/// Integrity levels, Windows values.
const LOW: u16 = 0x1000;
const MEDIUM: u16 = 0x2000;
const HIGH: u16 = 0x3000;
const SYSTEM: u16 = 0x4000;

/// The identity of system services (the pager itself, procfs).
pub const SYSTEM_IDENTITY: Identity = Identity {
    user_rid: 18,
    integrity: SYSTEM,
    privileges: Identity::TCB | Identity::DEBUG,
};
const DEFAULT_RID: u32 = 1000;

/// A program started without an identity word: user `user`, medium
/// integrity, no privileges.
pub const DEFAULT_IDENTITY: Identity = Identity {
    user_rid: DEFAULT_RID,
    integrity: MEDIUM,
    privileges: 0,
};

/// Splits `name@identity` and parses the identity.
pub fn parse_spec(spec: &str) -> Result<(&str, Identity), String> {
    let Some((name, who)) = spec.split_once('@') else {
        return Ok((
            spec,
            Identity {
                user_rid: DEFAULT_RID,
                integrity: MEDIUM,
                privileges: 0,
            },
        ));
    };
    let mut parts = who.split(':');
    let user_rid = match parts.next().unwrap_or("") {
        "" | "user" => DEFAULT_RID,
        "alice" => 1001,
        "bob" => 1002,
        "admin" => 500,
        "system" => SYSTEM_IDENTITY.user_rid,
        n => n.parse().map_err(|_| alloc::format!("unknown user {n:?}"))?,
    };
    let integrity = match parts.next().unwrap_or("") {
        "" | "medium" => MEDIUM,
        "low" => LOW,
        "high" => HIGH,
        "system" => SYSTEM,
        l => return Err(alloc::format!("unknown integrity level {l:?}")),
    };
    let mut privileges = 0;
    for c in parts.next().unwrap_or("").chars() {
        privileges |= match c {
            't' => Identity::TCB,
            'd' => Identity::DEBUG,
            _ => {
                return Err(alloc::format!(
                    "unknown privilege {c:?} (t: SeTcbPrivilege, d: SeDebugPrivilege)"
                ));
            }
        };
    }
    Ok((
        name,
        Identity {
            user_rid,
            integrity,
            privileges,
        },
    ))
}
