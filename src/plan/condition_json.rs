//! The JSON form of a condition in the plan: a small tagged tree.
//!
//! `{"type":"compare","variable":"branch","op":"==","value":"main"}`,
//! `{"type":"and","all":[…]}`, `{"type":"or","any":[…]}`, `{"type":"not","condition":…}`,
//! `{"type":"const","value":true}`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::plan::CompareOp;
use crate::plan::{Condition, Variable};

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Node {
    Const {
        value: bool,
    },
    Compare {
        variable: Variable,
        op: Op,
        value: String,
    },
    And {
        all: Vec<Node>,
    },
    Or {
        any: Vec<Node>,
    },
    Not {
        condition: Box<Node>,
    },
}

#[derive(Serialize, Deserialize, Clone, Copy)]
enum Op {
    #[serde(rename = "==")]
    Equal,
    #[serde(rename = "!=")]
    NotEqual,
    #[serde(rename = "matches")]
    Matches,
}

impl From<&Condition> for Node {
    fn from(condition: &Condition) -> Node {
        match condition {
            Condition::Const(value) => Node::Const { value: *value },
            Condition::Compare {
                variable,
                op,
                value,
            } => Node::Compare {
                variable: variable.clone(),
                op: match op {
                    CompareOp::Equal => Op::Equal,
                    CompareOp::NotEqual => Op::NotEqual,
                    CompareOp::Matches => Op::Matches,
                },
                value: value.clone(),
            },
            Condition::And(all) => Node::And {
                all: all.iter().map(Node::from).collect(),
            },
            Condition::Or(any) => Node::Or {
                any: any.iter().map(Node::from).collect(),
            },
            Condition::Not(inner) => Node::Not {
                condition: Box::new(Node::from(&**inner)),
            },
        }
    }
}

impl From<Node> for Condition {
    fn from(node: Node) -> Condition {
        match node {
            Node::Const { value } => Condition::Const(value),
            Node::Compare {
                variable,
                op,
                value,
            } => Condition::Compare {
                variable,
                op: match op {
                    Op::Equal => CompareOp::Equal,
                    Op::NotEqual => CompareOp::NotEqual,
                    Op::Matches => CompareOp::Matches,
                },
                value,
            },
            Node::And { all } => Condition::And(all.into_iter().map(Condition::from).collect()),
            Node::Or { any } => Condition::Or(any.into_iter().map(Condition::from).collect()),
            Node::Not { condition } => Condition::Not(Box::new(Condition::from(*condition))),
        }
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Node::from(self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Condition, D::Error> {
        Node::deserialize(deserializer).map(Condition::from)
    }
}
