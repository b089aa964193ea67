//! The states of a cell, with the fixed reason codes each can carry.

use serde::Serialize;

/// The state of one (DaemonSet, node) cell (DESIGN.md, "The model").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum CellState {
    /// Should run, a ready pod is there.
    Healthy,
    /// Should run on a healthy node, no pod there (reasons `new_node`, `pod_lost`, `never`).
    Missing,
    /// Should run, a pod exists but has not started.
    Pending,
    /// Should run, the pod runs but is not ready.
    NotReady,
    /// The node is down and its daemon pod is lost with it.
    Stranded,
    /// The pod is being deleted for longer than its grace period plus slack.
    StuckTerminating,
    /// The pod is bound to a node that no longer exists.
    Orphaned,
    /// A pod runs where it should neither run nor continue running.
    Misscheduled,
    /// Should not run, and no pod: the normal case for a node outside the DaemonSet.
    Excluded,
}

impl CellState {
    /// Every state, in a stable order.
    pub const ALL: [Self; 9] = [
        Self::Healthy,
        Self::Missing,
        Self::Pending,
        Self::NotReady,
        Self::Stranded,
        Self::StuckTerminating,
        Self::Orphaned,
        Self::Misscheduled,
        Self::Excluded,
    ];

    /// The state's name, as in metrics, reports and annotations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Missing => "missing",
            Self::Pending => "pending",
            Self::NotReady => "not_ready",
            Self::Stranded => "stranded",
            Self::StuckTerminating => "stuck_terminating",
            Self::Orphaned => "orphaned",
            Self::Misscheduled => "misscheduled",
            Self::Excluded => "excluded",
        }
    }

    /// Parses a state name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether the state is a gap: anything but healthy and excluded.
    pub fn is_gap(self) -> bool {
        !matches!(self, Self::Healthy | Self::Excluded)
    }

    /// The position of the state in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The reason code of a cell's state: a fixed set, safe as a metric label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// No reason: healthy cells, and excluded ones with nothing to say.
    #[default]
    Unspecified,
    /// `new_node`.
    NewNode,
    /// `pod_lost`.
    PodLost,
    /// `never`.
    Never,
    /// `unschedulable`.
    Unschedulable,
    /// `image_pull`.
    ImagePull,
    /// `container_config`.
    ContainerConfig,
    /// `starting`.
    Starting,
    /// `not_scheduled`.
    NotScheduled,
    /// `crash_loop`.
    CrashLoop,
    /// `readiness`.
    Readiness,
    /// `pod_failed`.
    PodFailed,
    /// `pod_succeeded`.
    PodSucceeded,
    /// `other`.
    Other,
    /// `node_unreachable`.
    NodeUnreachable,
    /// `node_not_ready`.
    NodeNotReady,
    /// `node_gone`.
    NodeGone,
    /// `node_out_of_service`.
    NodeOutOfService,
    /// `node_ready`.
    NodeReady,
    /// `node_name`.
    NodeName,
    /// `node_selector`.
    NodeSelector,
    /// `node_affinity`.
    NodeAffinity,
    /// `taint`.
    Taint,
}

impl Reason {
    /// The code as text (`""` for [`Reason::Unspecified`]).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "",
            Self::NewNode => "new_node",
            Self::PodLost => "pod_lost",
            Self::Never => "never",
            Self::Unschedulable => "unschedulable",
            Self::ImagePull => "image_pull",
            Self::ContainerConfig => "container_config",
            Self::Starting => "starting",
            Self::NotScheduled => "not_scheduled",
            Self::CrashLoop => "crash_loop",
            Self::Readiness => "readiness",
            Self::PodFailed => "pod_failed",
            Self::PodSucceeded => "pod_succeeded",
            Self::Other => "other",
            Self::NodeUnreachable => "node_unreachable",
            Self::NodeNotReady => "node_not_ready",
            Self::NodeGone => "node_gone",
            Self::NodeOutOfService => "node_out_of_service",
            Self::NodeReady => "node_ready",
            Self::NodeName => "node_name",
            Self::NodeSelector => "node_selector",
            Self::NodeAffinity => "node_affinity",
            Self::Taint => "taint",
        }
    }
}

impl serde::Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maps a kubelet waiting reason to a fixed reason code; the reason itself goes into the detail.
pub fn waiting_reason_code(reason: &str) -> Reason {
    match reason {
        "ErrImagePull"
        | "ImagePullBackOff"
        | "InvalidImageName"
        | "ErrImageNeverPull"
        | "RegistryUnavailable" => Reason::ImagePull,
        "CrashLoopBackOff" | "RunContainerError" => Reason::CrashLoop,
        "CreateContainerConfigError"
        | "CreateContainerError"
        | "PreCreateHookError"
        | "PreStartHookError" => Reason::ContainerConfig,
        "ContainerCreating" | "PodInitializing" => Reason::Starting,
        _ => Reason::Other,
    }
}

#[cfg(test)]
mod tests;
