//! The server's table of processes and their security state.
//!
//! Tokens and descriptors live here, in the server, where no caller can
//! reach them; a request names only its target. Who is asking comes from the
//! kernel-stamped [`Sender`], which a program cannot forge. The table is
//! filled by the system (process creation, impersonation), not by the
//! programs it describes.

use alloc::vec::Vec;

use libipc::{
    procfs::{Error, PidSelector},
    types::{Pid, Sender, Tid},
};

use crate::{descriptor::SecurityDescriptor, token::Token};

/// What the server knows about one process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Process {
    pub token: Token,
    pub descriptor: SecurityDescriptor,
}

/// An impersonation token worn by one thread.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Impersonation {
    /// The process the thread belongs to: a stamp whose pid does not match
    /// is not this thread, so the token is not used.
    pid: Pid,
    token: Token,
}

/// pid -> primary token and descriptor; tid -> impersonation token. Lists
/// searched in order, not maps: the server fills the table with one
/// request's parties (at most three) and clears it for the next, and a
/// cleared list keeps its memory, where a map would free and allocate its
/// nodes on every request.
#[derive(Clone, Debug, Default)]
pub struct ProcessTable {
    processes: Vec<(Pid, Process)>,
    impersonations: Vec<(Tid, Impersonation)>,
}

impl ProcessTable {
    pub fn new() -> ProcessTable {
        ProcessTable::default()
    }

    /// Registers `pid` with its primary token and the default descriptor
    /// for it. Replaces any previous entry (pids are reused after exit).
    pub fn insert(&mut self, pid: Pid, token: Token) {
        let descriptor = SecurityDescriptor::default_for(&token);
        self.insert_with_descriptor(pid, token, descriptor);
    }

    /// Registers `pid` with an explicit descriptor.
    pub fn insert_with_descriptor(&mut self, pid: Pid, token: Token, descriptor: SecurityDescriptor) {
        self.impersonations.retain(|(_, imp)| imp.pid != pid);
        let process = Process { token, descriptor };
        match self.processes.iter_mut().find(|(p, _)| *p == pid) {
            Some((_, known)) => *known = process,
            None => self.processes.push((pid, process)),
        }
    }

    /// Registers `child` as a fork of `parent`: the same primary token, a
    /// fresh default descriptor.
    pub fn insert_child(&mut self, child: Pid, parent: Pid) -> Result<(), Error> {
        let token = self.get(parent).ok_or(Error::NoSuchProcess)?.token.clone();
        self.insert(child, token);
        Ok(())
    }

    /// Forgets everyone (the table is rebuilt for each request), keeping
    /// the lists' memory.
    pub fn clear(&mut self) {
        self.processes.clear();
        self.impersonations.clear();
    }

    /// Forgets an exited process and its threads' impersonations.
    pub fn remove(&mut self, pid: Pid) {
        self.processes.retain(|(p, _)| *p != pid);
        self.impersonations.retain(|(_, imp)| imp.pid != pid);
    }

    /// Thread `tid` of `pid` starts acting as `token`.
    pub fn impersonate(&mut self, pid: Pid, tid: Tid, token: Token) -> Result<(), Error> {
        if self.get(pid).is_none() {
            return Err(Error::NoSuchProcess);
        }
        let impersonation = Impersonation { pid, token };
        match self.impersonations.iter_mut().find(|(t, _)| *t == tid) {
            Some((_, worn)) => *worn = impersonation,
            None => self.impersonations.push((tid, impersonation)),
        }
        Ok(())
    }

    /// Thread `tid` goes back to its process's primary token.
    pub fn revert_to_self(&mut self, tid: Tid) {
        self.impersonations.retain(|(t, _)| *t != tid);
    }

    pub fn get(&self, pid: Pid) -> Option<&Process> {
        self.processes
            .iter()
            .find(|(p, _)| *p == pid)
            .map(|(_, process)| process)
    }

    fn impersonation(&self, tid: Tid) -> Option<&Impersonation> {
        self.impersonations.iter().find(|(t, _)| *t == tid).map(|(_, imp)| imp)
    }

    /// The token `sender` acts with: its thread's impersonation token if it
    /// wears one, else its process's primary token. A sender the table does
    /// not know has no identity and is refused everything.
    pub fn effective_token(&self, sender: Sender) -> Result<&Token, Error> {
        let process = self.get(sender.pid).ok_or(Error::AccessDenied)?;
        match self.impersonation(sender.tid) {
            Some(imp) if imp.pid == sender.pid => Ok(&imp.token),
            _ => Ok(&process.token),
        }
    }

    /// The target a request names: `/proc/self` is the sender's process.
    pub fn resolve(&self, sender: Sender, selector: PidSelector) -> Result<(Pid, &Process), Error> {
        let pid = match selector {
            PidSelector::Self_ => sender.pid,
            PidSelector::Pid(pid) => pid,
        };
        let process = self.get(pid).ok_or(Error::NoSuchProcess)?;
        Ok((pid, process))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{sid::Sid, token::IntegrityLevel};

    fn token(rid: u32) -> Token {
        Token::new(Sid::user(rid), IntegrityLevel::Medium)
    }

    fn sender(pid: u32, tid: u32) -> Sender {
        Sender {
            pid: Pid(pid),
            tid: Tid(tid),
        }
    }

    #[test]
    fn effective_token_prefers_impersonation() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        assert_eq!(table.effective_token(sender(1, 10)).unwrap().user(), Sid::user(1));
        table.impersonate(Pid(1), Tid(10), token(2)).unwrap();
        assert_eq!(table.effective_token(sender(1, 10)).unwrap().user(), Sid::user(2));
        // Another thread of the same process keeps the primary token.
        assert_eq!(table.effective_token(sender(1, 11)).unwrap().user(), Sid::user(1));
        table.revert_to_self(Tid(10));
        assert_eq!(table.effective_token(sender(1, 10)).unwrap().user(), Sid::user(1));
    }

    #[test]
    fn a_stamp_with_another_pid_does_not_borrow_the_impersonation() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        table.insert(Pid(2), token(2));
        table.impersonate(Pid(1), Tid(10), token(3)).unwrap();
        assert_eq!(table.effective_token(sender(2, 10)).unwrap().user(), Sid::user(2));
    }

    #[test]
    fn unknown_senders_and_targets() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        assert_eq!(table.effective_token(sender(9, 9)), Err(Error::AccessDenied));
        assert!(matches!(
            table.resolve(sender(1, 1), PidSelector::Pid(Pid(9))),
            Err(Error::NoSuchProcess)
        ));
        assert_eq!(table.resolve(sender(1, 1), PidSelector::Self_).unwrap().0, Pid(1));
        assert_eq!(table.impersonate(Pid(9), Tid(1), token(1)), Err(Error::NoSuchProcess));
    }

    #[test]
    fn children_inherit_and_exit_forgets() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        table.insert_child(Pid(2), Pid(1)).unwrap();
        assert_eq!(table.get(Pid(2)).unwrap().token.user(), Sid::user(1));
        assert_eq!(table.insert_child(Pid(3), Pid(9)), Err(Error::NoSuchProcess));
        table.impersonate(Pid(2), Tid(20), token(5)).unwrap();
        table.remove(Pid(2));
        assert!(table.get(Pid(2)).is_none());
        table.insert(Pid(2), token(1));
        assert_eq!(table.effective_token(sender(2, 20)).unwrap().user(), Sid::user(1));
    }

    #[test]
    fn inserting_again_replaces() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        table.impersonate(Pid(1), Tid(10), token(2)).unwrap();
        table.impersonate(Pid(1), Tid(10), token(4)).unwrap();
        assert_eq!(table.effective_token(sender(1, 10)).unwrap().user(), Sid::user(4));
        // A pid reused after exit: its threads' impersonations are gone.
        table.insert(Pid(1), token(3));
        assert_eq!(table.effective_token(sender(1, 10)).unwrap().user(), Sid::user(3));
        assert_eq!(table.processes.len(), 1);
    }

    #[test]
    fn clear_forgets_everyone() {
        let mut table = ProcessTable::new();
        table.insert(Pid(1), token(1));
        table.impersonate(Pid(1), Tid(10), token(2)).unwrap();
        table.clear();
        assert!(table.get(Pid(1)).is_none());
        assert_eq!(table.effective_token(sender(1, 10)), Err(Error::AccessDenied));
        table.insert(Pid(1), token(3));
        assert_eq!(
            table.effective_token(sender(1, 10)).unwrap().user(),
            Sid::user(3),
            "no impersonation survives a clear"
        );
    }
}
