import { useChannels } from '../api/alerts'
import { ChannelsSection } from './channels-section'
import { useConfirm } from './confirm'
import { RulesSection } from './rules-section'
import { SilencesSection } from './silences-section'

// Alerting: rules, silences and channels. Everyone signed in reads them; admins change them (viewers
// see no write controls: the API would refuse them with 403 anyway).

export function AlertsPage({ isAdmin }: { isAdmin: boolean }) {
  const channels = useChannels()
  const [confirm, confirmDialog] = useConfirm()
  return (
    <section className="page alerts-page" aria-labelledby="alerts-title">
      <div className="page-head">
        <h1 id="alerts-title">Alerts</h1>
      </div>
      <RulesSection isAdmin={isAdmin} channels={channels.data ?? []} confirm={confirm} />
      <SilencesSection isAdmin={isAdmin} confirm={confirm} />
      <ChannelsSection isAdmin={isAdmin} channels={channels.data} error={channels.error} confirm={confirm} />
      {confirmDialog}
    </section>
  )
}
